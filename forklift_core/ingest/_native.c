/* The parts of an ingest that Python cannot do at speed: the C and Python call scans, docstrings and comment
 * docs, each line's first text byte, caller spans and symbol ids. Each has a Python way beside it (ingest/native.py).
 *
 * C call sites and type uses by a lexical scan:
 * The lexer reads C the way cscope's does for what ForkLift keeps of it: comments, strings, character literals
 * and numbers skipped; #include, #error and the like skipped whole; a #define's own name left out and its body
 * read as code (a macro is the caller of the calls in its body). A name followed by "(" is a call unless it is a
 * keyword or a field (`a->f(x)`, `a.f(x)`); any other name is a type use when it follows struct/union/enum or is
 * one of the typedef names given. A name at its own definition (`int f(void)`, `struct s {`) is left in: the
 * resolver drops every use at a definition site of its name.
 *
 * Python could not do this at speed: the type uses need every identifier looked up among the typedef names.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ---- growable output buffers ---- */

typedef struct {
    char *data;
    size_t size, capacity;
} Buffer;

static int buffer_add(Buffer *buffer, const void *bytes, size_t count) {
    if (buffer->size + count > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 4096;
        while (capacity < buffer->size + count) capacity *= 2;
        char *grown = realloc(buffer->data, capacity);
        if (!grown) return -1;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->size, bytes, count);
    buffer->size += count;
    return 0;
}

/* ---- a set of names (open addressing over slices of caller-owned bytes) ---- */

typedef struct {
    const char **start;
    uint32_t *length;
    size_t mask;
} NameSet;

static uint64_t name_hash(const char *name, size_t length) {
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < length; i++) hash = (hash ^ (unsigned char)name[i]) * 1099511628211ULL;
    return hash;
}

static int nameset_init(NameSet *set, size_t expected) {
    size_t slots = 16;
    while (slots < expected * 2) slots *= 2;
    set->start = calloc(slots, sizeof(char *));
    set->length = calloc(slots, sizeof(uint32_t));
    set->mask = slots - 1;
    return set->start && set->length ? 0 : -1;
}

static void nameset_free(NameSet *set) {
    free(set->start);
    free(set->length);
    set->start = NULL;
    set->length = NULL;
}

static void nameset_add(NameSet *set, const char *name, size_t length) {
    size_t slot = name_hash(name, length) & set->mask;
    while (set->start[slot]) {
        if (set->length[slot] == length && memcmp(set->start[slot], name, length) == 0) return;
        slot = (slot + 1) & set->mask;
    }
    set->start[slot] = name;
    set->length[slot] = (uint32_t)length;
}

/* Whether the set holds the name, whose name_hash is `hash` (a lexer hashes each name once for several sets). */
static int nameset_has_hashed(const NameSet *set, const char *name, size_t length, uint64_t hash) {
    size_t slot = hash & set->mask;
    while (set->start[slot]) {
        if (set->length[slot] == length && memcmp(set->start[slot], name, length) == 0) return 1;
        slot = (slot + 1) & set->mask;
    }
    return 0;
}

static int nameset_has(const NameSet *set, const char *name, size_t length) {
    return nameset_has_hashed(set, name, length, name_hash(name, length));
}

/* Words that are never a call or a use. struct/union/enum make the next name a type. */
static const char *const KEYWORDS[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
    "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool",
    "_Complex", "_Imaginary", "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn", "_Static_assert",
    "_Thread_local", NULL};
/* Directives whose rest of line holds no code: a file name, a message, a compiler instruction. */
static const char *const SKIPPED_DIRECTIVES[] = {"include", "include_next", "import", "error", "warning", "pragma",
                                                "line", "ident", "sccs", "undef", "assert", "unassert", NULL};

static NameSet keywords, skipped_directives;

static int words_init(NameSet *set, const char *const *words) {
    size_t count = 0;
    while (words[count]) count++;
    if (nameset_init(set, count) < 0) return -1;
    for (size_t i = 0; i < count; i++) nameset_add(set, words[i], strlen(words[i]));
    return 0;
}

/* ---- the lexer ---- */

enum { USE_CALL = 0, USE_TYPE = 1 };
enum { AFTER_OTHER, AFTER_FIELD, AFTER_TAG };

typedef struct {
    Buffer files, lines, kinds, name_ends, names;
} Uses;

static inline int is_digit(unsigned char c) { return (unsigned)(c - '0') < 10u; }
static inline int is_name_start(unsigned char c) { return c == '_' || (unsigned)((c | 0x20) - 'a') < 26u; }
static inline int is_name_byte(unsigned char c) { return is_name_start(c) || is_digit(c); }
static inline int is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
/* An ASCII byte str.strip() removes: tab to CR, and 0x1C to space. */
static inline int is_strip_space(unsigned char c) { return (c >= 9 && c <= 13) || (c >= 28 && c <= 32); }

static int emit(Uses *uses, int32_t file, int64_t line, uint8_t kind, const char *name, size_t length) {
    int64_t end;
    if (buffer_add(&uses->names, name, length) < 0) return -1;
    end = (int64_t)uses->names.size;
    if (buffer_add(&uses->files, &file, sizeof file) < 0 || buffer_add(&uses->lines, &line, sizeof line) < 0 ||
        buffer_add(&uses->kinds, &kind, sizeof kind) < 0 || buffer_add(&uses->name_ends, &end, sizeof end) < 0)
        return -1;
    return 0;
}

/* Past a block comment that opens at `at` ("/" "*"), counting its newlines. */
static size_t skip_block_comment(const char *text, size_t at, size_t end, int64_t *line) {
    at += 2;
    while (at < end) {
        if (text[at] == '\n') (*line)++;
        else if (text[at] == '*' && at + 1 < end && text[at + 1] == '/') return at + 2;
        at++;
    }
    return end;
}

/* Past the end of the (backslash-continued) line at `at`, to its newline; block comments on it are skipped
 * whole, since one may run over the next lines. */
static size_t skip_line(const char *text, size_t at, size_t end, int64_t *line) {
    while (at < end && text[at] != '\n') {
        if (text[at] == '\\' && at + 1 < end && text[at + 1] == '\n') {
            (*line)++;
            at += 2;
        } else if (text[at] == '/' && at + 1 < end && text[at + 1] == '*') {
            at = skip_block_comment(text, at, end, line);
        } else {
            at++;
        }
    }
    return at;
}

/* Past a string or character literal that opens at `at`; one left open ends at its line's end (old code, or a
 * lone apostrophe in text that is not code, must not swallow the file). */
static size_t skip_literal(const char *text, size_t at, size_t end, int64_t *line) {
    char quote = text[at++];
    while (at < end) {
        char c = text[at];
        if (c == quote) return at + 1;
        if (c == '\n') return at;
        if (c == '\\' && at + 1 < end) {
            if (text[at + 1] == '\n') (*line)++;
            at += 2;
            continue;
        }
        at++;
    }
    return end;
}

static int scan_file(const char *text, size_t begin, size_t end, int32_t file, const void *context, Uses *uses) {
    const NameSet *types = context;
    int64_t line = 1;
    int line_start = 1; /* only blanks since the last newline: a '#' opens a directive */
    int after = AFTER_OTHER;
    int define_name = 0; /* the next name is the one a #define defines */
    size_t at = begin;
    while (at < end) {
        unsigned char c = (unsigned char)text[at];
        if (c == '\n') {
            line++;
            line_start = 1;
            define_name = 0;
            at++;
            continue;
        }
        if (is_blank(c)) {
            at++;
            continue;
        }
        if (c == '\\' && at + 1 < end && text[at + 1] == '\n') { /* a continued line is one line of code */
            line++;
            at += 2;
            continue;
        }
        if (c == '/' && at + 1 < end && text[at + 1] == '*') {
            at = skip_block_comment(text, at, end, &line);
            continue;
        }
        if (c == '/' && at + 1 < end && text[at + 1] == '/') {
            at = skip_line(text, at, end, &line);
            continue;
        }
        if (c == '#' && line_start) {
            size_t word = at + 1, word_end;
            while (word < end && is_blank((unsigned char)text[word])) word++;
            word_end = word;
            while (word_end < end && is_name_byte((unsigned char)text[word_end])) word_end++;
            line_start = 0;
            after = AFTER_OTHER;
            if (nameset_has(&skipped_directives, text + word, word_end - word)) {
                at = skip_line(text, word_end, end, &line);
            } else {
                define_name = word_end - word == 6 && memcmp(text + word, "define", 6) == 0;
                at = word_end;
            }
            continue;
        }
        line_start = 0;
        if (c == '"' || c == '\'') {
            at = skip_literal(text, at, end, &line);
            after = AFTER_OTHER;
            continue;
        }
        if (is_digit(c) || (c == '.' && at + 1 < end && is_digit((unsigned char)text[at + 1]))) {
            at++; /* a number with its suffix and exponent sign: 0x1fUL, 1e+5, 0x1p-3 */
            while (at < end) {
                unsigned char d = (unsigned char)text[at];
                if ((d == '+' || d == '-') && strchr("eEpP", text[at - 1])) at++;
                else if (is_name_byte(d) || d == '.') at++;
                else break;
            }
            after = AFTER_OTHER;
            continue;
        }
        if (is_name_start(c)) {
            size_t start = at, length, next;
            uint64_t hash;
            while (at < end && is_name_byte((unsigned char)text[at])) at++;
            length = at - start;
            if (at < end && (text[at] == '"' || text[at] == '\'') && length <= 2 &&
                (text[start] == 'L' || text[start] == 'u' || text[start] == 'U')) {
                at = skip_literal(text, at, end, &line); /* L"..", u8"..", U'..' */
                after = AFTER_OTHER;
                continue;
            }
            if (define_name) {
                define_name = 0;
                after = AFTER_OTHER;
                continue;
            }
            hash = name_hash(text + start, length);
            if (nameset_has_hashed(&keywords, text + start, length, hash)) {
                after = (length == 6 && (memcmp(text + start, "struct", 6) == 0)) ||
                                (length == 5 && memcmp(text + start, "union", 5) == 0) ||
                                (length == 4 && memcmp(text + start, "enum", 4) == 0)
                            ? AFTER_TAG
                            : AFTER_OTHER;
                continue;
            }
            next = at;
            while (next < end && (text[next] == ' ' || text[next] == '\t')) next++;
            if (after != AFTER_FIELD) {
                int kind = -1;
                if (after == AFTER_TAG) {
                    kind = USE_TYPE; /* `struct s (*f)(void)` declares f */
                } else if (nameset_has_hashed(types, text + start, length, hash)) {
                    kind = USE_TYPE; /* ... and so does `u32 (*f)(void)`, though a typedef's name may be a macro's */
                    if (next < end && text[next] == '(') {
                        size_t inner = next + 1;
                        while (inner < end && is_blank((unsigned char)text[inner])) inner++;
                        if (inner >= end || text[inner] != '*') kind = USE_CALL;
                    }
                } else if (next < end && text[next] == '(') {
                    kind = USE_CALL;
                }
                if (kind >= 0 && emit(uses, file, line, (uint8_t)kind, text + start, length) < 0) return -1;
            }
            after = AFTER_OTHER;
            continue;
        }
        if (c == '-' && at + 1 < end && text[at + 1] == '>') {
            after = AFTER_FIELD;
            at += 2;
            continue;
        }
        if (c == '.') {
            int ellipsis = at + 2 < end && text[at + 1] == '.' && text[at + 2] == '.';
            after = ellipsis ? AFTER_OTHER : AFTER_FIELD;
            at += ellipsis ? 3 : 1;
            continue;
        }
        after = AFTER_OTHER;
        at++;
    }
    return 0;
}

static PyObject *as_bytes(Buffer *buffer) {
    return PyBytes_FromStringAndSize(buffer->data ? buffer->data : "", (Py_ssize_t)buffer->size);
}

/* Reads one file, text[begin:end], into `uses`; -1 when memory runs out. */
typedef int (*FileScanner)(const char *text, size_t begin, size_t end, int32_t file, const void *context, Uses *uses);

static void uses_free(Uses *uses) {
    free(uses->files.data);
    free(uses->lines.data);
    free(uses->kinds.data);
    free(uses->name_ends.data);
    free(uses->names.data);
}

/* Each file of `text` (their end offsets in `file_ends`, int64) through `scan`, without the GIL, as the tuple of
 * bytes (files, lines, kinds, name_ends, names); NULL with an exception set on bad offsets or no memory. */
static PyObject *scan_files(const Py_buffer *text, const Py_buffer *file_ends, FileScanner scan, const void *context) {
    const int64_t *ends = file_ends->buf;
    Py_ssize_t files = file_ends->len / (Py_ssize_t)sizeof(int64_t);
    size_t begin = 0;
    int failed = 0;
    PyObject *result = NULL;
    Uses uses;
    memset(&uses, 0, sizeof uses);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t file = 0; file < files && !failed; file++) {
        size_t end = (size_t)ends[file];
        if (end < begin || end > (size_t)text->len) {
            failed = 2;
            break;
        }
        failed = scan(text->buf, begin, end, (int32_t)file, context, &uses) < 0;
        begin = end;
    }
    Py_END_ALLOW_THREADS
    if (failed == 2) PyErr_SetString(PyExc_ValueError, "file_ends must rise and stay within the text");
    else if (failed) PyErr_NoMemory();
    else result = Py_BuildValue("(NNNNN)", as_bytes(&uses.files), as_bytes(&uses.lines), as_bytes(&uses.kinds),
                                as_bytes(&uses.name_ends), as_bytes(&uses.names));
    uses_free(&uses);
    return result;
}

PyDoc_STRVAR(c_uses_doc,
             "c_uses(text, file_ends, type_names) -> (files, lines, kinds, name_ends, names)\n\n"
             "Call sites and type uses of the C files laid end to end in `text`; `file_ends` holds each file's\n"
             "end offset (int64), `type_names` the typedef names, one a line. Returns bytes: each use's file\n"
             "(int32), line (int64), kind (uint8: 0 call, 1 type use), the end of its name in `names` (int64),\n"
             "and the names laid end to end.");

static PyObject *c_uses(PyObject *module, PyObject *args) {
    Py_buffer text, file_ends, type_names;
    NameSet types = {0};
    PyObject *result;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*y*y*", &text, &file_ends, &type_names)) return NULL;
    {
        const char *names = type_names.buf;
        size_t size = (size_t)type_names.len, count = 0, start = 0;
        for (size_t i = 0; i < size; i++) count += names[i] == '\n';
        if (nameset_init(&types, count + 1) == 0) {
            for (size_t i = 0; i <= size; i++) {
                if (i == size || names[i] == '\n') {
                    if (i > start) nameset_add(&types, names + start, i - start);
                    start = i + 1;
                }
            }
        }
    }
    result = types.start ? scan_files(&text, &file_ends, scan_file, &types) : PyErr_NoMemory();
    nameset_free(&types);
    PyBuffer_Release(&text);
    PyBuffer_Release(&file_ends);
    PyBuffer_Release(&type_names);
    return result;
}

/* ---- Python call sites: the same findings as pycalls.python_calls, made in one pass ---- */

typedef struct {
    size_t start, end;
} Span;

static int span_add(Buffer *spans, size_t start, size_t end) {
    Span span = {start, end};
    return buffer_add(spans, &span, sizeof span);
}

/* Whether `at` lies in one of the sorted, disjoint spans. */
static int span_holds(const Buffer *spans, size_t at) {
    const Span *span = (const Span *)spans->data;
    size_t low = 0, high = spans->size / sizeof(Span);
    while (low < high) { /* the first span starting after `at` */
        size_t middle = (low + high) / 2;
        if (span[middle].start <= at) low = middle + 1;
        else high = middle;
    }
    return low > 0 && at < span[low - 1].end;
}

static inline int is_py_name_byte(unsigned char c) { return is_name_byte(c) || c >= 0x80; }

static const char *const PY_KEYWORDS[] = {"and", "as", "assert", "async", "await", "del", "elif", "else", "except",
                                          "for", "from", "global", "if", "import", "in", "is", "lambda", "not", "or",
                                          "pass", "raise", "return", "while", "with", "yield", NULL};
static NameSet py_keywords;
/* The bytes that open a comment or a string literal. */
static const unsigned char PY_OPENS_TEXT[256] = {['#'] = 1, ['"'] = 1, ['\''] = 1};

/* The end of the string literal whose quote is at `at` (a triple-quoted or unterminated one runs to `end`; a
 * one-line one left open stops before its newline); a backslash always takes the byte after it. */
static size_t py_string_end(const char *text, size_t at, size_t end) {
    char quote = text[at];
    int triple = at + 2 < end && text[at + 1] == quote && text[at + 2] == quote;
    at += triple ? 3 : 1;
    while (at < end) {
        char c = text[at];
        if (c == '\\') {
            if (at + 1 >= end) return end;
            at += 2;
        } else if (c == quote && (!triple || (at + 2 < end && text[at + 1] == quote && text[at + 2] == quote))) {
            return at + (triple ? 3 : 1);
        } else if (c == '\n' && !triple) {
            return at;
        } else {
            at++;
        }
    }
    return end;
}

/* Whether the string whose quote is at `quote` has a prefix holding an f (f, rf, Fr ...) that is a whole word. */
static int py_is_f_string(const char *text, size_t begin, size_t quote) {
    size_t start = quote;
    int has_f = 0;
    while (start > begin && quote - start < 3 && strchr("rRbBuUfF", text[start - 1]) && text[start - 1]) start--;
    if (start == quote || (start > begin && is_py_name_byte((unsigned char)text[start - 1]))) return 0;
    for (size_t i = start; i < quote; i++) has_f |= (text[i] | 0x20) == 'f';
    return has_f;
}

/* The replacement fields of the f-string text[start:end]: outside a field a doubled brace is a literal one; inside,
 * braces nest. The pair test may look one byte past the string, as the Python scan does. */
static int py_fields(const char *text, size_t start, size_t end, size_t limit, Buffer *fields) {
    size_t depth = 0, opened = 0;
    for (size_t at = start; at < end; at++) {
        char c = text[at];
        if (c != '{' && c != '}') continue;
        if (depth == 0) {
            if (at + 1 < limit && text[at + 1] == c) at++; /* a literal brace */
            else if (c == '{') depth = 1, opened = at + 1;
        } else if (c == '{') {
            depth++;
        } else if (--depth == 0 && span_add(fields, opened, at) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The spans of match statements where a name before "(" is no call: the `match` keyword, and a `case` line from its
 * keyword to its guard (or its end), on lines whose rest ends in a colon (a comment may follow it). */
static int py_not_calls(const char *text, size_t begin, size_t end, Buffer *spans) {
    size_t at = begin;
    while (at < end) {
        size_t word, word_end, rest, colon_ok = 0;
        const char *newline = memchr(text + at, '\n', end - at);
        size_t line_end = newline ? (size_t)(newline - text) : end;
        word = at;
        while (word < line_end && (text[word] == ' ' || text[word] == '\t')) word++;
        word_end = word;
        while (word_end < line_end && is_name_byte((unsigned char)text[word_end])) word_end++;
        if (((word_end - word == 5 && memcmp(text + word, "match", 5) == 0) ||
             (word_end - word == 4 && memcmp(text + word, "case", 4) == 0)) &&
            (word_end == line_end || !is_name_byte((unsigned char)text[word_end]))) {
            for (rest = word_end; rest < line_end && !colon_ok; rest++) {
                size_t after = rest + 1;
                if (text[rest] != ':') continue;
                while (after < line_end && (text[after] == ' ' || text[after] == '\t')) after++;
                colon_ok = after == line_end || text[after] == '#';
            }
            if (colon_ok) {
                size_t stop = word_end;
                if (text[word] == 'c') {
                    stop = line_end;
                    for (size_t i = word_end; i + 4 <= line_end; i++) {
                        if (memcmp(text + i, " if ", 4) == 0) {
                            stop = i;
                            break;
                        }
                    }
                }
                if (span_add(spans, word, stop) < 0) return -1;
            }
        }
        at = line_end + 1;
    }
    return 0;
}

typedef struct {
    size_t offset, length;
} Call;

/* How many newlines text[from:to] holds (memchr jumps from one to the next). */
static int64_t newlines_between(const char *text, size_t from, size_t to) {
    int64_t count = 0;
    const char *at = text + from, *stop = text + to;
    while (at < stop && (at = memchr(at, '\n', (size_t)(stop - at))) != NULL) count++, at++;
    return count;
}

/* The calls in text[begin:end], read as a whole Python source (so a replacement field is read as one), into
 * `calls` (offsets into text); fields are read to the depth the Python scan allows. */
static int py_calls(const char *text, size_t begin, size_t end, int depth, Buffer *calls) {
    Buffer strings = {0}, fields = {0}, not_calls = {0};
    int failed = 0;
    size_t at = begin;
    while (at < end && !failed) { /* comments and strings, left to right */
        char c;
        while (at < end && !PY_OPENS_TEXT[(unsigned char)text[at]]) at++; /* code between them, at speed */
        if (at >= end) break;
        c = text[at];
        if (c == '#') {
            const char *newline = memchr(text + at, '\n', end - at);
            size_t stop = newline ? (size_t)(newline - text) : end;
            failed = span_add(&strings, at, stop) < 0;
            at = stop;
        } else if (c == '"' || c == '\'') {
            size_t stop = py_string_end(text, at, end);
            failed = span_add(&strings, at, stop) < 0;
            if (!failed && depth < 8 && py_is_f_string(text, begin, at))
                failed = py_fields(text, at, stop, end, &fields) < 0;
            at = stop;
        } else {
            at++;
        }
    }
    if (!failed) failed = py_not_calls(text, begin, end, &not_calls) < 0;
    for (at = begin; at < end && !failed; at++) { /* each "(" and the name written before it */
        size_t name_end, name_start;
        const char *paren = memchr(text + at, '(', end - at);
        if (!paren) break;
        at = (size_t)(paren - text);
        name_end = at;
        while (name_end > begin && (text[name_end - 1] == ' ' || text[name_end - 1] == '\t')) name_end--;
        if (name_end > begin && text[name_end - 1] == '\n') { /* a backslash-continued line */
            size_t back = name_end - 1;
            if (back > begin && text[back - 1] == '\r') back--;
            if (!(back > begin && text[back - 1] == '\\')) continue;
            name_end = back - 1;
            while (name_end > begin && (text[name_end - 1] == ' ' || text[name_end - 1] == '\t')) name_end--;
        }
        name_start = name_end;
        while (name_start > begin && is_py_name_byte((unsigned char)text[name_start - 1])) name_start--;
        if (name_start == name_end || is_digit((unsigned char)text[name_start])) continue;
        if (span_holds(&strings, name_start) || span_holds(&not_calls, name_start)) continue;
        {
            size_t length = name_end - name_start, ahead = name_start - begin < 6 ? name_start - begin : 6;
            const char *before = text + name_start - ahead;
            int after_dot = ahead >= 1 && before[ahead - 1] == '.';
            int after_def = (ahead >= 4 && memcmp(before + ahead - 4, "def ", 4) == 0) ||
                            (ahead >= 6 && memcmp(before + ahead - 6, "class ", 6) == 0);
            if (after_dot || (!nameset_has(&py_keywords, text + name_start, length) && !after_def)) {
                Call call = {name_start, length};
                failed = buffer_add(calls, &call, sizeof call) < 0;
            }
        }
    }
    for (size_t i = 0; i < fields.size / sizeof(Span) && !failed; i++) {
        const Span *field = (const Span *)fields.data + i;
        failed = py_calls(text, field->start, field->end, depth + 1, calls) < 0;
    }
    free(strings.data);
    free(fields.data);
    free(not_calls.data);
    return failed ? -1 : 0;
}

static int call_order(const void *left, const void *right) {
    size_t a = ((const Call *)left)->offset, b = ((const Call *)right)->offset;
    return (a > b) - (a < b);
}

PyDoc_STRVAR(python_calls_doc,
             "python_calls(text, file_ends) -> (files, lines, kinds, name_ends, names)\n\n"
             "Call sites of the Python files laid end to end in `text` (`file_ends`: each file's end offset,\n"
             "int64), in each file's order, as c_uses returns them (every kind 0, a call).");

/* One Python file's calls, in source order. */
static int scan_python_file(const char *text, size_t begin, size_t end, int32_t file, const void *context,
                            Uses *uses) {
    Buffer calls = {0};
    int64_t line = 1;
    size_t count, at = begin;
    int failed = py_calls(text, begin, end, 0, &calls) < 0;
    (void)context;
    count = calls.size / sizeof(Call);
    if (count) qsort(calls.data, count, sizeof(Call), call_order);
    for (size_t i = 0; i < count && !failed; i++) {
        const Call *call = (const Call *)calls.data + i;
        line += newlines_between(text, at, call->offset);
        at = call->offset;
        failed = emit(uses, file, line, USE_CALL, text + call->offset, call->length) < 0;
    }
    free(calls.data);
    return failed ? -1 : 0;
}

static PyObject *python_calls(PyObject *module, PyObject *args) {
    Py_buffer text, file_ends;
    PyObject *result;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*y*", &text, &file_ends)) return NULL;
    result = scan_files(&text, &file_ends, scan_python_file, NULL);
    PyBuffer_Release(&text);
    PyBuffer_Release(&file_ends);
    return result;
}

/* ---- Python docstrings: the same text as enrich._python_docstring, for many definitions at once ---- */

/* The length of the whitespace character (as str.isspace() knows it) that starts at `at`, or 0. */
static size_t space_at(const unsigned char *at, const unsigned char *end) {
    size_t left = (size_t)(end - at);
    if (!left) return 0;
    if (is_strip_space(at[0])) return 1;
    if (left >= 2 && at[0] == 0xC2 && (at[1] == 0x85 || at[1] == 0xA0)) return 2;
    if (left >= 3 && ((at[0] == 0xE1 && at[1] == 0x9A && at[2] == 0x80) ||
                      (at[0] == 0xE2 && at[1] == 0x80 && (at[2] <= 0x8A || at[2] == 0xA8 || at[2] == 0xA9 ||
                                                          at[2] == 0xAF) && at[2] >= 0x80) ||
                      (at[0] == 0xE2 && at[1] == 0x81 && at[2] == 0x9F) ||
                      (at[0] == 0xE3 && at[1] == 0x80 && at[2] == 0x80)))
        return 3;
    return 0;
}

/* The length of the whitespace character that ends just before `end`, or 0. */
static size_t space_before(const unsigned char *start, const unsigned char *end) {
    for (size_t length = 1; length <= 3 && length <= (size_t)(end - start); length++)
        if (space_at(end - length, end) == length) return length;
    return 0;
}

typedef struct {
    const unsigned char *start, *end;
} Text;

static Text strip_text(Text text) {
    size_t step;
    while ((step = space_at(text.start, text.end)) != 0) text.start += step;
    while ((step = space_before(text.start, text.end)) != 0) text.end -= step;
    return text;
}

static const unsigned char *find_bytes(Text text, const char *needle, size_t length) {
    for (const unsigned char *at = text.start; at + length <= text.end; at++)
        if (memcmp(at, needle, length) == 0) return at;
    return NULL;
}

/* Texts laid end to end, with each one's end offset: how the doc helpers hand back a column. */
typedef struct {
    Buffer data, ends;
} Texts;

static int texts_close_one(Texts *texts) {
    int64_t end = (int64_t)texts->data.size;
    return buffer_add(&texts->ends, &end, sizeof end);
}

/* (ends, data) as bytes, or NULL with MemoryError when `failed`; the buffers are freed either way. */
static PyObject *texts_result(Texts *texts, int failed) {
    PyObject *result = failed ? PyErr_NoMemory()
                              : Py_BuildValue("(NN)", as_bytes(&texts->ends), as_bytes(&texts->data));
    free(texts->data.data);
    free(texts->ends.data);
    return result;
}

typedef struct {
    const unsigned char *data;
    const int64_t *starts, *ends;
} LineTable;

static Text line_text(const LineTable *lines, int64_t line) {
    Text text = {lines->data + lines->starts[line], lines->data + lines->ends[line]};
    return text;
}

/* The docstring of the def/class whose lines are [first, stop): the first statement of its body when it is a
 * string, each of its lines stripped; appended to `out`. */
static int python_docstring(const LineTable *lines, int64_t first, int64_t stop, Buffer *out) {
    int64_t line = first;
    Text text, body;
    const unsigned char *close;
    char quote[3];
    size_t prefix = 0;
    for (; line < stop; line++) { /* past a signature over several lines */
        Text right = strip_text(line_text(lines, line));
        if (right.end > right.start && right.end[-1] == ':') break;
    }
    for (line++; line < stop; line++) {
        Text content = strip_text(line_text(lines, line));
        if (content.end > content.start) break;
    }
    if (line >= stop) return 0;
    text = line_text(lines, line);
    body = text;
    for (size_t step; (step = space_at(body.start, body.end)) != 0;) body.start += step;
    while (prefix < 2 && body.start + prefix < body.end && strchr("rRbBuU", body.start[prefix]) && body.start[prefix])
        prefix++;
    body.start += prefix;
    if (body.end - body.start < 3 || (body.start[0] != '"' && body.start[0] != '\'') ||
        body.start[1] != body.start[0] || body.start[2] != body.start[0])
        return 0;
    memcpy(quote, body.start, 3);
    body.start += 3;
    if ((close = find_bytes(body, quote, 3)) != NULL) {
        body.end = close;
        body = strip_text(body);
        return buffer_add(out, body.start, (size_t)(body.end - body.start));
    }
    {
        size_t begin = out->size;
        Text part = strip_text(body);
        if (buffer_add(out, part.start, (size_t)(part.end - part.start)) < 0) return -1;
        for (line++; line < stop; line++) {
            Text next = line_text(lines, line);
            int last = (close = find_bytes(next, quote, 3)) != NULL;
            if (last) next.end = close;
            next = strip_text(next);
            if (buffer_add(out, "\n", 1) < 0 || buffer_add(out, next.start, (size_t)(next.end - next.start)) < 0)
                return -1;
            if (last) break;
        }
        { /* the whole stripped once more: leading or trailing parts may have been empty */
            Text whole = {(const unsigned char *)out->data + begin, (const unsigned char *)out->data + out->size};
            Text kept = strip_text(whole);
            size_t length = (size_t)(kept.end - kept.start);
            memmove(out->data + begin, kept.start, length);
            out->size = begin + length;
        }
    }
    return 0;
}

PyDoc_STRVAR(python_docstrings_doc,
             "python_docstrings(data, starts, ends, firsts, stops) -> (doc_ends, docs)\n\n"
             "For each def/class, lines [firsts[i], stops[i]) of the line table (each line data[starts[j]:ends[j]]\n"
             "without its line break; int64 columns): its docstring, '' for none. Returns each one's end offset\n"
             "(int64) in the docs laid end to end.");

static PyObject *python_docstrings(PyObject *module, PyObject *args) {
    Py_buffer data, starts, ends, firsts, stops;
    Texts docs;
    PyObject *result = NULL;
    int failed = 0;
    memset(&docs, 0, sizeof docs);
    (void)module;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*", &data, &starts, &ends, &firsts, &stops)) return NULL;
    {
        LineTable lines = {data.buf, starts.buf, ends.buf};
        const int64_t *first = firsts.buf, *stop = stops.buf;
        Py_ssize_t count = firsts.len / 8, line_count = starts.len / 8;
        for (Py_ssize_t j = 0; j < line_count && !failed; j++) /* every line inside the data */
            failed = starts.len != ends.len || lines.starts[j] < 0 || lines.starts[j] > lines.ends[j] ||
                     lines.ends[j] > data.len;
        for (Py_ssize_t i = 0; i < count && !failed; i++)
            failed = firsts.len != stops.len || first[i] < 0 || stop[i] > line_count;
        if (failed) {
            PyErr_SetString(PyExc_ValueError, "lines must lie in the data, and definitions in the lines");
        } else {
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t i = 0; i < count && !failed; i++)
                failed = python_docstring(&lines, first[i], stop[i], &docs.data) < 0 || texts_close_one(&docs) < 0;
            Py_END_ALLOW_THREADS
            result = texts_result(&docs, failed);
        }
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&firsts);
    PyBuffer_Release(&stops);
    return result;
}

PyDoc_STRVAR(comment_docs_doc,
             "comment_docs(data, firsts, ends, markers, tops, bottoms) -> (doc_ends, docs)\n\n"
             "For each definition, its comment lines [tops[i], bottoms[i]] (none when tops[i] > bottoms[i]): each\n"
             "line data[firsts[j] + markers[j]:ends[j]] stripped, a closing '*' '/' and the spaces before it\n"
             "dropped, the non-empty ones joined by newlines. Returns each doc's end offset (int64) in the docs\n"
             "laid end to end.");

static PyObject *comment_docs(PyObject *module, PyObject *args) {
    Py_buffer data, firsts, ends, markers, tops, bottoms;
    Texts docs;
    PyObject *result = NULL;
    int failed = 0;
    memset(&docs, 0, sizeof docs);
    (void)module;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*", &data, &firsts, &ends, &markers, &tops, &bottoms)) return NULL;
    {
        const int64_t *first = firsts.buf, *end = ends.buf, *marker = markers.buf, *top = tops.buf,
                      *bottom = bottoms.buf;
        Py_ssize_t count = tops.len / 8, line_count = firsts.len / 8;
        int bad = firsts.len != ends.len || firsts.len != markers.len || tops.len != bottoms.len;
        for (Py_ssize_t j = 0; j < line_count && !bad; j++)
            bad = first[j] < 0 || marker[j] < 0 || end[j] > data.len;
        for (Py_ssize_t i = 0; i < count && !bad; i++) bad = top[i] <= bottom[i] && (top[i] < 0 || bottom[i] >= line_count);
        if (bad) {
            PyErr_SetString(PyExc_ValueError, "lines must lie in the data, and comments in the lines");
        } else {
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t i = 0; i < count && !failed; i++) {
                int64_t parts = 0;
                for (int64_t line = top[i]; line <= bottom[i] && !failed; line++) {
                    const unsigned char *start = (const unsigned char *)data.buf + first[line] + marker[line];
                    Text text = {start, (const unsigned char *)data.buf + end[line]};
                    if (text.start > text.end) text.start = text.end;
                    text = strip_text(text);
                    if (text.end - text.start >= 2 && text.end[-2] == '*' && text.end[-1] == '/') {
                        text.end -= 2;
                        text = strip_text(text);
                    }
                    if (text.end == text.start) continue;
                    failed = (parts++ && buffer_add(&docs.data, "\n", 1) < 0) ||
                             buffer_add(&docs.data, text.start, (size_t)(text.end - text.start)) < 0;
                }
                failed = failed || texts_close_one(&docs) < 0;
            }
            Py_END_ALLOW_THREADS
            result = texts_result(&docs, failed);
        }
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&firsts);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&markers);
    PyBuffer_Release(&tops);
    PyBuffer_Release(&bottoms);
    return result;
}

/* ---- each line's first byte of text ---- */

PyDoc_STRVAR(first_text_doc,
             "first_text(data, starts, ends) -> bytes\n\n"
             "For each line data[starts[i]:ends[i]] (int64 columns): the offset of its first byte that\n"
             "str.strip() would keep (ASCII: tab to CR, 0x1C to space are spaces), or ends[i] for a blank line.");

static PyObject *first_text(PyObject *module, PyObject *args) {
    Py_buffer data, starts, ends;
    PyObject *result = NULL;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*y*y*", &data, &starts, &ends)) return NULL;
    if (starts.len != ends.len) {
        PyErr_SetString(PyExc_ValueError, "starts and ends must be as long");
    } else if ((result = PyBytes_FromStringAndSize(NULL, starts.len)) != NULL) {
        const unsigned char *bytes = data.buf;
        const int64_t *start = starts.buf, *end = ends.buf;
        int64_t *first = (int64_t *)PyBytes_AS_STRING(result);
        Py_ssize_t count = starts.len / 8;
        for (Py_ssize_t i = 0; i < count; i++) {
            int64_t at = start[i] < 0 ? 0 : start[i], stop = end[i] > data.len ? data.len : end[i];
            while (at < stop && is_strip_space(bytes[at])) at++;
            first[i] = at < stop ? at : end[i];
        }
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&ends);
    return result;
}

/* ---- caller spans: each one's enclosing span ---- */

PyDoc_STRVAR(span_parents_doc,
             "span_parents(starts, ends, files) -> bytes\n\n"
             "For spans sorted by file, then start (int64 columns): the latest earlier span of the same file\n"
             "that contains each one's start, or -1, as int64.");

static PyObject *span_parents(PyObject *module, PyObject *args) {
    Py_buffer starts, ends, files;
    PyObject *result = NULL;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*y*y*", &starts, &ends, &files)) return NULL;
    if (starts.len != ends.len || starts.len != files.len) {
        PyErr_SetString(PyExc_ValueError, "starts, ends and files must be as long");
    } else if ((result = PyBytes_FromStringAndSize(NULL, starts.len)) != NULL) {
        const int64_t *start = starts.buf, *end = ends.buf, *file = files.buf;
        int64_t *parent = (int64_t *)PyBytes_AS_STRING(result);
        Py_ssize_t count = starts.len / (Py_ssize_t)sizeof(int64_t);
        for (Py_ssize_t i = 0; i < count; i++) {
            int64_t j = i - 1; /* walking back through parents skips every span that cannot hold this one */
            while (j >= 0 && file[j] == file[i] && end[j] < start[i]) j = parent[j];
            parent[i] = j >= 0 && file[j] == file[i] ? j : -1;
        }
    }
    PyBuffer_Release(&starts);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&files);
    return result;
}

/* ---- symbol ids: the first 8 bytes of SHA-1 over each key, as 16 hex digits ---- */

/* SHA-1 as FIPS 180-4 defines it. Ids are short keys (path:line:name:kind, about one block each): the per-key cost of
 * a Python hashlib call was most of the ids' time, not the hashing. */
static uint32_t rotate_left(uint32_t value, int bits) { return (value << bits) | (value >> (32 - bits)); }

static void sha1_block(uint32_t state[5], const unsigned char *block) {
    uint32_t w[80], a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 |
               (uint32_t)block[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rotate_left(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
/* One round: the four kinds of rounds in their own loops, so none branches (three times the speed). */
#define SHA1_ROUND(f, k)                                         \
    do {                                                         \
        uint32_t t = rotate_left(a, 5) + (f) + e + (k) + w[i];   \
        e = d, d = c, c = rotate_left(b, 30), b = a, a = t;      \
    } while (0)
    int i = 0;
    for (; i < 20; i++) SHA1_ROUND((b & c) | (~b & d), 0x5A827999u);
    for (; i < 40; i++) SHA1_ROUND(b ^ c ^ d, 0x6ED9EBA1u);
    for (; i < 60; i++) SHA1_ROUND((b & c) | (b & d) | (c & d), 0x8F1BBCDCu);
    for (; i < 80; i++) SHA1_ROUND(b ^ c ^ d, 0xCA62C1D6u);
#undef SHA1_ROUND
    state[0] += a, state[1] += b, state[2] += c, state[3] += d, state[4] += e;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

/* The same block by the CPU's SHA instructions (SHA-NI), four rounds an instruction: a kernel's 1.4 million ids
 * took most of their time in the portable rounds above. Chosen at import where the CPU has them. Each group of four
 * message words is made from the four before it (msg1, xor, msg2: w[i] from w[i-3], w[i-8], w[i-14], w[i-16]); each
 * round group's e comes from the a of the state before the previous group (nexte). */
__attribute__((target("sha,sse4.1,ssse3"))) static void sha1_block_sha_ni(uint32_t state[5],
                                                                          const unsigned char *block) {
    const __m128i reverse_bytes = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0x1B); /* a in the top lane */
    __m128i e_start = _mm_set_epi32((int)state[4], 0, 0, 0);
    __m128i abcd_start = abcd, before = abcd, e = e_start, words[4];
    for (int group = 0; group < 20; group++) {
        __m128i message;
        if (group < 4) {
            message = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * group)), reverse_bytes);
        } else {
            message = _mm_sha1msg1_epu32(words[group & 3], words[(group - 3) & 3]);
            message = _mm_sha1msg2_epu32(_mm_xor_si128(message, words[(group - 2) & 3]), words[(group - 1) & 3]);
        }
        words[group & 3] = message;
        e = group == 0 ? _mm_add_epi32(e_start, message) : _mm_sha1nexte_epu32(before, message);
        before = abcd;
        switch (group / 5) { /* the round function is an immediate operand */
        case 0: abcd = _mm_sha1rnds4_epu32(abcd, e, 0); break;
        case 1: abcd = _mm_sha1rnds4_epu32(abcd, e, 1); break;
        case 2: abcd = _mm_sha1rnds4_epu32(abcd, e, 2); break;
        default: abcd = _mm_sha1rnds4_epu32(abcd, e, 3); break;
        }
    }
    e = _mm_sha1nexte_epu32(before, e_start);
    abcd = _mm_shuffle_epi32(_mm_add_epi32(abcd, abcd_start), 0x1B);
    _mm_storeu_si128((__m128i *)state, abcd);
    state[4] = (uint32_t)_mm_extract_epi32(e, 3);
}

static int cpu_has_sha_ni(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_SSE4_1) || !(ecx & bit_SSSE3)) return 0;
    return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & (1u << 29)); /* CPUID.7.0:EBX.SHA */
}
#else
static void sha1_block_sha_ni(uint32_t state[5], const unsigned char *block) { sha1_block(state, block); }
static int cpu_has_sha_ni(void) { return 0; }
#endif

static void (*sha1_block_fast)(uint32_t state[5], const unsigned char *block) = sha1_block;

/* The first 16 hex digits of SHA-1 over data[0:length]. */
static void sha1_hex16(const unsigned char *data, size_t length, char *out) {
    static const char HEX[] = "0123456789abcdef";
    uint32_t state[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    unsigned char tail[128] = {0};
    size_t full = length / 64, rest = length % 64, tail_length = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)length * 8;
    for (size_t i = 0; i < full; i++) sha1_block_fast(state, data + 64 * i);
    memcpy(tail, data + 64 * full, rest);
    tail[rest] = 0x80; /* then zeros, then the length in bits, big-endian */
    for (int i = 0; i < 8; i++) tail[tail_length - 1 - i] = (unsigned char)(bits >> (8 * i));
    sha1_block_fast(state, tail);
    if (tail_length == 128) sha1_block_fast(state, tail + 64);
    for (int i = 0; i < 8; i++) {
        unsigned char byte = (unsigned char)(state[i / 4] >> (24 - 8 * (i % 4)));
        out[2 * i] = HEX[byte >> 4], out[2 * i + 1] = HEX[byte & 15];
    }
}

/* Each string data[offsets[i]:offsets[i + 1]] of the arguments (data, offsets: int64, one more than the strings)
 * through `each`, which writes `width` bytes of output for it; the outputs laid end to end. NULL with a ValueError
 * when the offsets do not rise within the data. */
typedef void (*StringMapper)(const unsigned char *string, size_t length, char *out);

static PyObject *map_strings(PyObject *args, Py_ssize_t width, StringMapper each) {
    Py_buffer data, offsets;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*", &data, &offsets)) return NULL;
    Py_ssize_t count = offsets.len / (Py_ssize_t)sizeof(int64_t) - 1;
    const int64_t *offset = offsets.buf;
    int valid = count >= 0 && offsets.len % (Py_ssize_t)sizeof(int64_t) == 0;
    for (Py_ssize_t i = 0; valid && i < count; i++)
        valid = offset[i] >= 0 && offset[i] <= offset[i + 1] && offset[i + 1] <= data.len;
    if (!valid) {
        PyErr_SetString(PyExc_ValueError, "offsets must rise within the data, one more than the strings");
    } else if ((result = PyBytes_FromStringAndSize(NULL, count * width)) != NULL) {
        char *out = PyBytes_AS_STRING(result);
        const unsigned char *bytes = data.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < count; i++)
            each(bytes + offset[i], (size_t)(offset[i + 1] - offset[i]), out + width * i);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    return result;
}

PyDoc_STRVAR(short_sha1_doc,
             "short_sha1(data, offsets) -> bytes\n\n"
             "For each key data[offsets[i]:offsets[i + 1]] (int64 offsets, one more than the keys): the first 16\n"
             "hex digits of its SHA-1, laid end to end (hashlib.sha1(key).hexdigest()[:16] of every key).");

static PyObject *short_sha1(PyObject *module, PyObject *args) {
    (void)module;
    return map_strings(args, 16, sha1_hex16);
}

/* ---- byte ranges of one buffer laid end to end (snippets cut out of a chunk's files) ---- */

PyDoc_STRVAR(join_ranges_doc,
             "join_ranges(data, starts, stops) -> bytes\n\n"
             "data[starts[i]:stops[i]] for every i (int64 offsets, each range within the data), laid end to end\n"
             "(b''.join of the slices).");

static PyObject *join_ranges(PyObject *module, PyObject *args) {
    Py_buffer data, starts, stops;
    PyObject *result = NULL;
    (void)module;
    if (!PyArg_ParseTuple(args, "y*y*y*", &data, &starts, &stops)) return NULL;
    Py_ssize_t count = starts.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *start = starts.buf, *stop = stops.buf;
    int64_t total = 0;
    int valid = starts.len == stops.len && starts.len % (Py_ssize_t)sizeof(int64_t) == 0;
    for (Py_ssize_t i = 0; valid && i < count; i++) {
        valid = start[i] >= 0 && start[i] <= stop[i] && stop[i] <= data.len;
        total += valid ? stop[i] - start[i] : 0;
    }
    if (!valid) {
        PyErr_SetString(PyExc_ValueError, "every range must lie within the data, its start before its stop");
    } else if ((result = PyBytes_FromStringAndSize(NULL, total)) != NULL) {
        char *out = PyBytes_AS_STRING(result);
        const char *bytes = data.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < count; i++) {
            memcpy(out, bytes + start[i], (size_t)(stop[i] - start[i]));
            out += stop[i] - start[i];
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&stops);
    return result;
}

/* ---- 64-bit hashes of many strings (names looked up among an index's by hash, then confirmed by text) ---- */

PyDoc_STRVAR(string_hashes_doc,
             "string_hashes(data, offsets) -> bytes\n\n"
             "For each string data[offsets[i]:offsets[i + 1]] (int64 offsets, one more than the strings): its\n"
             "64-bit FNV-1a hash, as uint64.");

static void fnv_hash_into(const unsigned char *string, size_t length, char *out) {
    uint64_t hash = name_hash((const char *)string, length);
    memcpy(out, &hash, sizeof hash);
}

static PyObject *string_hashes(PyObject *module, PyObject *args) {
    (void)module;
    return map_strings(args, (Py_ssize_t)sizeof(uint64_t), fnv_hash_into);
}

static PyMethodDef methods[] = {{"c_uses", c_uses, METH_VARARGS, c_uses_doc},
                                {"python_calls", python_calls, METH_VARARGS, python_calls_doc},
                                {"first_text", first_text, METH_VARARGS, first_text_doc},
                                {"python_docstrings", python_docstrings, METH_VARARGS, python_docstrings_doc},
                                {"comment_docs", comment_docs, METH_VARARGS, comment_docs_doc},
                                {"span_parents", span_parents, METH_VARARGS, span_parents_doc},
                                {"short_sha1", short_sha1, METH_VARARGS, short_sha1_doc},
                                {"join_ranges", join_ranges, METH_VARARGS, join_ranges_doc},
                                {"string_hashes", string_hashes, METH_VARARGS, string_hashes_doc},
                                {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_native",
                                        "ForkLift's ingest in native code: the scans, docs, caller spans, ids and snippet bytes.",
                                        -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) {
    if (words_init(&keywords, KEYWORDS) < 0 || words_init(&skipped_directives, SKIPPED_DIRECTIVES) < 0 ||
        words_init(&py_keywords, PY_KEYWORDS) < 0)
        return PyErr_NoMemory();
    if (cpu_has_sha_ni() && getenv("FORKLIFT_PORTABLE_SHA1") == NULL) sha1_block_fast = sha1_block_sha_ni;
    return PyModule_Create(&module_def);
}
