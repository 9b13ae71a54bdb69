/* ctl_print: text tables for a terminal. Every value is printed through
 * put_cell, which replaces control characters: a Call-ID or an AOR comes
 * from the network and must not be able to send escape sequences to the
 * operator's terminal. */
#include "ctl_print.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A scalar's text as printed; "-" for null, "?" for a nested value. */
static const char *cell_text(const struct json_val *v)
{
    if (!v || json_type(v) == JSON_ARRAY || json_type(v) == JSON_OBJECT)
        return "?";
    return json_type(v) == JSON_NULL ? "-" : json_text(v);
}

static void put_cell(FILE *out, const char *s, size_t width, bool right)
{
    size_t len = strlen(s);
    if (right)
        for (size_t i = len; i < width; i++)
            fputc(' ', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
    if (!right)
        for (size_t i = len; i < width; i++)
            fputc(' ', out);
}

int ctl_print_status(FILE *out, const struct json_val *root)
{
    size_t width = 0;
    if (json_type(root) != JSON_OBJECT)
        return -EINVAL;
    for (size_t i = 0; i < json_count(root); i++)
        if (strlen(json_key_at(root, i)) > width)
            width = strlen(json_key_at(root, i));
    for (size_t i = 0; i < json_count(root); i++) {
        put_cell(out, json_key_at(root, i), width + 2, false);
        put_cell(out, cell_text(json_at(root, i)), 0, false);
        fputc('\n', out);
    }
    return 0;
}

/* Column widths over the header and every row; numeric columns are
 * right-aligned (decided by the first row that has the cell). */
static void measure(const struct json_val *cols, const struct json_val *rows, size_t *w, bool *num)
{
    size_t ncols = json_count(cols);
    for (size_t c = 0; c < ncols; c++) {
        w[c] = strlen(cell_text(json_at(cols, c)));
        num[c] = false;
    }
    for (size_t r = json_count(rows); r-- > 0;) {
        const struct json_val *row = json_at(rows, r);
        for (size_t c = 0; c < ncols && c < json_count(row); c++) {
            size_t len = strlen(cell_text(json_at(row, c)));
            w[c] = len > w[c] ? len : w[c];
            num[c] = json_type(json_at(row, c)) == JSON_NUMBER;
        }
    }
}

static void print_line(FILE *out, const struct json_val *cells, size_t ncols, const size_t *w,
                       const bool *num)
{
    for (size_t c = 0; c < ncols; c++) {
        if (c)
            fputs("  ", out);
        const struct json_val *v = json_at(cells, c);
        /* the last column is not padded: no trailing blanks */
        put_cell(out, v ? cell_text(v) : "", c + 1 < ncols || num[c] ? w[c] : 0, num[c]);
    }
    fputc('\n', out);
}

static void print_note(FILE *out, const struct json_val *root, size_t shown)
{
    const struct json_val *total = json_get(root, "total");
    const struct json_val *offset = json_get(root, "offset");
    unsigned long long t = total ? strtoull(cell_text(total), NULL, 10) : shown;
    unsigned long long o = offset ? strtoull(cell_text(offset), NULL, 10) : 0;
    if (shown == 0 && t == 0)
        fprintf(out, "(empty)\n");
    else if (o > 0 || shown < t)
        fprintf(out, "(rows %llu-%llu of %llu: -o OFFSET and -n LIMIT show others)\n",
                shown ? o + 1 : o, o + shown, t);
}

int ctl_print_table(FILE *out, const struct json_val *root)
{
    const struct json_val *cols = json_type(root) == JSON_OBJECT ? json_get(root, "columns") : NULL;
    const struct json_val *rows = cols ? json_get(root, "rows") : NULL;
    size_t ncols, *w;
    bool *num;

    if (!cols || !rows || json_type(cols) != JSON_ARRAY || json_type(rows) != JSON_ARRAY ||
        json_count(cols) == 0)
        return -EINVAL;
    ncols = json_count(cols);
    w = calloc(ncols, sizeof *w);
    num = calloc(ncols, sizeof *num);
    if (!w || !num) {
        free(w);
        free(num);
        return -ENOMEM;
    }
    measure(cols, rows, w, num);
    print_line(out, cols, ncols, w, num);
    for (size_t r = 0; r < json_count(rows); r++)
        print_line(out, json_at(rows, r), ncols, w, num);
    print_note(out, root, json_count(rows));
    free(w);
    free(num);
    return 0;
}
