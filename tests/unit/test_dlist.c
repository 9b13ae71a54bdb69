/* dlist (include/pinhole/dlist.h): the intrusive list under the pending
 * registrations, keepalive probes and in-dialog requests. */
#include "helpers.h"

#include "pinhole/dlist.h"

struct item {
    int v;
    struct dlist link;
};

static int values(const struct dlist *head, int *out, int max)
{
    int n = 0;
    for (const struct dlist *e = head->next; e != head && n < max; e = e->next)
        out[n++] = dlist_entry(e, const struct item, link)->v;
    return n;
}

static void push_remove_anywhere(void **state)
{
    struct dlist head;
    struct item it[4];
    int got[8];
    (void)state;
    dlist_init(&head);
    assert_true(dlist_empty(&head));
    for (int i = 0; i < 4; i++) {
        it[i].v = i;
        dlist_push(&head, &it[i].link);
    }
    assert_false(dlist_empty(&head));
    assert_int_equal(values(&head, got, 8), 4);
    assert_int_equal(got[0], 3); /* pushed at the front */
    assert_int_equal(got[3], 0);

    dlist_remove(&it[2].link); /* middle */
    dlist_remove(&it[3].link); /* first */
    dlist_remove(&it[0].link); /* last */
    assert_int_equal(values(&head, got, 8), 1);
    assert_int_equal(got[0], 1);
    assert_ptr_equal(head.prev, &it[1].link);
    dlist_remove(&it[0].link); /* a second unlink is harmless */
    assert_int_equal(values(&head, got, 8), 1);
    dlist_remove(&it[1].link);
    assert_true(dlist_empty(&head));
    assert_ptr_equal(head.prev, &head);
}

/* The owners' "free everything" loop: unlink the first until empty. */
static void drain_frees_each_once(void **state)
{
    struct dlist head;
    (void)state;
    dlist_init(&head);
    for (int i = 0; i < 100; i++) {
        struct item *p = test_malloc(sizeof *p);
        p->v = i;
        dlist_push(&head, &p->link);
    }
    int n = 0;
    while (!dlist_empty(&head)) {
        struct item *p = dlist_entry(head.next, struct item, link);
        dlist_remove(&p->link);
        test_free(p);
        n++;
    }
    assert_int_equal(n, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(push_remove_anywhere),
        cmocka_unit_test(drain_frees_each_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
