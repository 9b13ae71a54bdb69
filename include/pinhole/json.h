/* json: a small reader for the JSON the daemons' stats endpoints write
 * (metrics.h), used by pinholectl and the tests. It parses a whole
 * document into a tree; scalars keep their text (numbers exactly as
 * written, so 64-bit counters print without rounding). Strict RFC 8259
 * syntax, depth bounded by JSON_DEPTH_MAX, "\u0000" refused (the text is
 * handed out as C strings). */
#ifndef PINHOLE_JSON_H
#define PINHOLE_JSON_H

#include <stddef.h>

#define JSON_DEPTH_MAX 32

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json;     /* a parsed document: owns every value in it */
struct json_val; /* one value, valid until json_free */

/* Parses text[0..len). Returns 0, -EINVAL (syntax; *err_pos, when not NULL,
 * is the byte offset where it went wrong) or -ENOMEM. Free with json_free. */
int json_parse(struct json **out, const char *text, size_t len, size_t *err_pos);
void json_free(struct json *doc);

const struct json_val *json_root(const struct json *doc);
enum json_type json_type(const struct json_val *v);
/* A scalar as text: strings decoded (UTF-8), numbers as written, "true",
 * "false", "null"; NULL for arrays and objects. Owned by the document. */
const char *json_text(const struct json_val *v);
/* Elements of an array or members of an object; 0 for a scalar. */
size_t json_count(const struct json_val *v);
/* The i-th element or member value; NULL when out of range. */
const struct json_val *json_at(const struct json_val *v, size_t i);
/* The i-th member's key of an object; NULL otherwise. */
const char *json_key_at(const struct json_val *v, size_t i);
/* The first member named key of an object; NULL when absent. */
const struct json_val *json_get(const struct json_val *v, const char *key);

#endif
