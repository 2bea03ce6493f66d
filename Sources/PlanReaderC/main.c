// pare-plan-dump: reads a plan.pb with libprotobuf-c and prints the same listing as Swift's `planListing`.
//
//   pare-plan-dump PLAN_DIR_OR_PLAN_PB
//
// Proves the plan format is language-neutral: this reader knows only plan.proto (via protoc-c's generated code)
// and the format's documented rules (the CRC-32C trailer, format version 1). Exit status: 0 on success; 1 when the
// file is missing, unreadable, not a plan, truncated, corrupt or of another version; 2 on a usage error.
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crc32c.h"
#include "plan.pb-c.h"

typedef Pare__Plan__V1__Plan Plan;

/// The format version this reader understands.
#define FORMAT_VERSION 2
/// The tag byte of Plan.crc32c: field 15, wire type 5 (fixed32).
#define CHECKSUM_TAG 0x7D

static const char *program = "pare-plan-dump";

static int fail(const char *path, const char *what) {
    fprintf(stderr, "%s: %s: %s\n", program, path, what);
    return 1;
}

// MARK: Input

/// The whole file at `path` in a malloc'd buffer (*size bytes), or NULL with a message printed.
static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s: cannot open: ", program, path);
        perror(NULL);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        fail(path, buf ? "read error" : "out of memory");
        return NULL;
    }
    *size = n;
    return buf;
}

// MARK: Listing (must match Sources/Plan/PlanListing.swift byte for byte)

/// `s` in double quotes; `"`, `\`, bytes below 0x20 and 0x7f as `\xHH`; other bytes as they are.
static void put_quoted(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\') printf("\\x%02x", *p);
        else putchar(*p);
    }
    putchar('"');
}

static void put_list(const int64_t *xs, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ",%" PRId64 : "%" PRId64, xs[i]);
    putchar(']');
}

/// The listing's name of a value of a plan.proto enum: the value's name without `prefix`, in lower case
/// (KERNEL_QKV_ROPE -> qkv_rope, DATA_TYPE_Q4_0 -> q4_0), read from protoc-c's descriptor so that a kernel or
/// dtype added to plan.proto needs no change here. NULL for the UNSPECIFIED value and values this reader's
/// plan.proto does not have. The result is in a static buffer per descriptor (this reader is single-threaded).
static const char *enum_name(const ProtobufCEnumDescriptor *d, const char *prefix, int value, char *buf, size_t size) {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    size_t skip = strlen(prefix);
    if (!v || strncmp(v->name, prefix, skip) != 0 || strlen(v->name) - skip >= size) return NULL;
    if (strcmp(v->name + skip, "UNSPECIFIED") == 0) return NULL;
    size_t n = 0;
    for (const char *c = v->name + skip; *c; c++) buf[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    buf[n] = 0;
    return buf;
}

static const char *kernel_name(int k) {
    static char buf[64];
    return enum_name(&pare__plan__v1__kernel__descriptor, "KERNEL_", k, buf, sizeof buf);
}

/// The listing's name of a tensor element type; "" for a value this reader does not know.
static const char *dtype_name(int t) {
    static char buf[64];
    const char *n = enum_name(&pare__plan__v1__data_type__descriptor, "DATA_TYPE_", t, buf, sizeof buf);
    return n ? n : "";
}

static void print_listing(const Plan *m) {
    const Pare__Plan__V1__Provenance *p = m->provenance;
    const Pare__Plan__V1__Tokenizer *t = m->tokenizer;
    const Pare__Plan__V1__ModelShape *s = m->model;
    printf("pare-plan format_version=%u\n", m->format_version);
    printf("model name="), put_quoted(p->model_name), printf(" architecture="), put_quoted(p->architecture), putchar('\n');
    printf("counts tensors=%zu buffers=%zu kv_layers=%zu steps=%zu\n", m->n_tensors, m->n_buffers, m->n_kv_layers, m->n_steps);
    printf("source format="), put_quoted(p->source_format), printf(" sha256="), put_quoted(p->source_sha256);
    printf(" path="), put_quoted(p->source_path), putchar('\n');
    printf("pipeline "), put_quoted(p->pipeline), putchar('\n');
    printf("lowering "), put_quoted(p->lowering), putchar('\n');
    printf("pare_version "), put_quoted(p->pare_version), putchar('\n');
    for (size_t i = 0; i < p->n_seeds; i++) {
        printf("seed "), put_quoted(p->seeds[i]->key), printf(" = "), put_quoted(p->seeds[i]->value), putchar('\n');
    }
    for (size_t i = 0; i < p->n_kl; i++) {
        const Pare__Plan__V1__KLReport *k = p->kl[i];
        printf("kl pass="), put_quoted(k->pass);
        printf(" mean=%.17g median=%.17g p99=%.17g max=%.17g top1_agreement=%.17g positions=%" PRId64 "\n",
               k->mean, k->median, k->p99, k->max, k->top1_agreement, k->positions);
    }
    for (size_t i = 0; i < p->n_metadata; i++) {
        printf("metadata "), put_quoted(p->metadata[i]->key), printf(" = "), put_quoted(p->metadata[i]->value), putchar('\n');
    }
    printf("model_shape hidden=%" PRId64 " vocab_size=%" PRId64 " max_context=%" PRId64 " max_rows=%" PRId64 "\n",
           s->hidden, s->vocab_size, s->max_context, s->max_rows);
    printf("tokenizer tokens=%zu kinds=%zu merges=%zu pre_tokenizer=", t->n_tokens, t->n_kinds, t->n_merges);
    put_quoted(t->pre_tokenizer);
    printf(" id_map=%zu original_size=%" PRId64 "\n", t->n_id_map, t->original_size);
    for (size_t i = 0; i < t->n_specials; i++) {
        printf("special role="), put_quoted(t->specials[i]->role), printf(" id=%" PRId64 " text=", t->specials[i]->id);
        put_quoted(t->specials[i]->text), putchar('\n');
    }
    printf("weights file="), put_quoted(m->weights->file);
    printf(" length=%" PRId64 " sha256=", m->weights->length), put_quoted(m->weights->sha256), putchar('\n');
    printf("arena row_floats=%" PRId64 " no_reuse_row_floats=%" PRId64 "\n", m->arena->row_floats, m->arena->no_reuse_row_floats);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const Pare__Plan__V1__Tensor *x = m->tensors[i];
        printf("tensor %zu name=", i), put_quoted(x->name), printf(" dtype=%s shape=", dtype_name(x->dtype));
        put_list(x->shape, x->n_shape);
        printf(" offset=%" PRId64 " length=%" PRId64 " crc32c=%08" PRIx32 "\n", x->offset, x->length, x->checksum);
    }
    for (size_t i = 0; i < m->n_buffers; i++) {
        const Pare__Plan__V1__Buffer *b = m->buffers[i];
        printf("buffer %zu name=", i), put_quoted(b->name);
        printf(" width=%" PRId64 " offset=%" PRId64 "\n", b->width, b->offset);
    }
    for (size_t i = 0; i < m->n_kv_layers; i++) {
        const Pare__Plan__V1__KVLayer *k = m->kv_layers[i];
        printf("kv_layer slot=%" PRId64 " block=%" PRId64 " kv_heads=%" PRId64 " head_dim=%" PRId64 "\n",
               k->slot, k->block, k->kv_heads, k->head_dim);
    }
    for (size_t i = 0; i < m->n_steps; i++) {
        const Pare__Plan__V1__Step *x = m->steps[i];
        printf("step %zu %s block=", i, kernel_name(x->kernel));
        if (x->optional_block_case == PARE__PLAN__V1__STEP__OPTIONAL_BLOCK_BLOCK) printf("%" PRId32, x->block);
        else putchar('-');
        printf(" inputs="), put_list(x->inputs, x->n_inputs), printf(" weights="), put_list(x->weights, x->n_weights);
        printf(" output=%" PRId64, x->output);
        if (x->optional_eps_case == PARE__PLAN__V1__STEP__OPTIONAL_EPS_EPS) printf(" eps=%.9g", (double)x->eps);
        if (x->heads != 0) printf(" heads=%" PRId64, x->heads);
        if (x->kv_heads != 0) printf(" kv_heads=%" PRId64, x->kv_heads);
        if (x->head_dim != 0) printf(" head_dim=%" PRId64, x->head_dim);
        if (x->theta != 0) printf(" theta=%.17g", x->theta);
        int attention = x->kernel == PARE__PLAN__V1__KERNEL__KERNEL_ATTENTION || x->kernel == PARE__PLAN__V1__KERNEL__KERNEL_ATTENTION_QKV;
        if (x->kv_slot != 0 || attention) printf(" kv_slot=%" PRId64, x->kv_slot);
        if (x->ffn != 0) printf(" ffn=%" PRId64, x->ffn);
        if (x->matrix_parts != 0) printf(" matrix_parts=%" PRId32, x->matrix_parts);
        if (x->norm_gain) printf(" norm_gain=1");
        putchar('\n');
    }
    printf("output buffer=%" PRId64 "\n", m->output);
}

// MARK: Checks (the structural ones Swift's decodePlan makes; semantics are the runtime's business)

/// NULL when `m` (decoded from `data`) is a well-formed version-1 plan, else what is wrong.
static const char *check(const Plan *m, const unsigned char *data, size_t n) {
    static char why[160];
    if (m->format_version == 0) return "not a Pare plan (it has no format_version)";
    int has_trailer = n >= 5 && data[n - 5] == CHECKSUM_TAG &&
                      m->optional_crc32c_case == PARE__PLAN__V1__PLAN__OPTIONAL_CRC32C_CRC32C &&
                      m->crc32c == ((uint32_t)data[n - 4] | (uint32_t)data[n - 3] << 8 | (uint32_t)data[n - 2] << 16 |
                                    (uint32_t)data[n - 1] << 24);
    if (has_trailer) {
        uint32_t computed = pare_crc32c(0, data, n - 5);  /* the same CRC-32C the Swift writer uses */
        if (computed != m->crc32c) {
            snprintf(why, sizeof why, "file is corrupt (CRC-32C of its contents is %08" PRIx32 ", the file records %08" PRIx32 ")",
                     computed, m->crc32c);
            return why;
        }
    }
    if (m->format_version < 1 || m->format_version > FORMAT_VERSION) {
        snprintf(why, sizeof why, "plan format version %u is not supported (this reader reads versions 1 to %d)", m->format_version,
                 FORMAT_VERSION);
        return why;
    }
    if (!has_trailer) return "file is truncated (it ends before its checksum field)";
    if (!m->provenance) return "required field 'provenance' is missing";
    if (!m->tokenizer) return "required field 'tokenizer' is missing";
    if (!m->model) return "required field 'model' is missing";
    if (!m->arena) return "required field 'arena' is missing";
    if (!m->weights) return "required field 'weights' is missing";
    for (size_t i = 0; i < m->n_tensors; i++) {
        int dt = (int)m->tensors[i]->dtype;
        if (!dtype_name(dt)[0] || (m->format_version < 2 && dt != PARE__PLAN__V1__DATA_TYPE__DATA_TYPE_F32)) {
            snprintf(why, sizeof why, "tensor %zu has unknown element type %d", i, (int)m->tensors[i]->dtype);
            return why;
        }
    }
    for (size_t i = 0; i < m->tokenizer->n_kinds; i++) {
        int k = (int)m->tokenizer->kinds[i];
        if (k < PARE__PLAN__V1__TOKEN_KIND__TOKEN_KIND_NORMAL || k > PARE__PLAN__V1__TOKEN_KIND__TOKEN_KIND_UNKNOWN) {
            snprintf(why, sizeof why, "token %zu has unknown kind %d", i, k);
            return why;
        }
    }
    for (size_t i = 0; i < m->n_steps; i++) {
        if (!kernel_name(m->steps[i]->kernel)) {
            snprintf(why, sizeof why, "step %zu uses unknown kernel %d", i, (int)m->steps[i]->kernel);
            return why;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s PLAN_DIR_OR_PLAN_PB\n  prints the listing of a plan written by `pare compile`\n", program);
        return 2;
    }
    const char *arg = argv[1];
    struct stat st;
    if (stat(arg, &st) != 0) return fail(arg, "no such file or directory");
    char *path = malloc(strlen(arg) + sizeof "/plan.pb");
    if (!path) return fail(arg, "out of memory");
    strcpy(path, arg);
    if (S_ISDIR(st.st_mode)) strcat(path, "/plan.pb");

    size_t n = 0;
    unsigned char *data = read_file(path, &n);
    if (!data) {
        free(path);
        return 1;
    }
    int status = 0;
    Plan *m = n == 0 ? NULL : pare__plan__v1__plan__unpack(NULL, n, data);
    if (!m) {
        status = fail(path, n == 0 ? "file is truncated (the file is empty)" : "not a Pare plan (protobuf decoding failed)");
    } else {
        const char *why = check(m, data, n);
        if (why) status = fail(path, why);
        else print_listing(m);
        pare__plan__v1__plan__free_unpacked(m, NULL);
    }
    free(data);
    free(path);
    if (status == 0 && (fflush(stdout) != 0 || ferror(stdout))) return fail("stdout", "write error");
    return status;
}
