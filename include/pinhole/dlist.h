/* dlist: an intrusive, circular, doubly linked list with a sentinel head,
 * for the contexts a module keeps while their transactions run (pending
 * registrations, keepalive probes, in-dialog requests): O(1) insert and
 * unlink with no special case for the first or last element.
 *
 * An element embeds a struct dlist; dlist_entry gets the element back.
 * The list owns nothing: whoever unlinks an element frees it. */
#ifndef PINHOLE_DLIST_H
#define PINHOLE_DLIST_H

#include <stdbool.h>
#include <stddef.h>

struct dlist {
    struct dlist *prev, *next;
};

#define dlist_entry(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

/* An empty list: the head points at itself. */
static inline void dlist_init(struct dlist *head)
{
    head->prev = head->next = head;
}

static inline bool dlist_empty(const struct dlist *head)
{
    return head->next == head;
}

/* Inserts node at the front of the list headed by head. */
static inline void dlist_push(struct dlist *head, struct dlist *node)
{
    node->prev = head;
    node->next = head->next;
    head->next->prev = node;
    head->next = node;
}

/* Unlinks node from whatever list holds it; the node then stands alone,
 * so a second unlink is harmless. */
static inline void dlist_remove(struct dlist *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = node;
}

#endif
