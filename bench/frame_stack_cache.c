/* The bench's stand-in for CPython's fix of gh-142183, for interpreters without it.

   CPython keeps Python frames in 16 KiB chunks that it maps (mmap) when a call needs
   one more and, before 3.13.13, unmaps (munmap) as soon as the call that needed it
   returns. A loop whose calls cross a chunk's end maps and unmaps one on every
   iteration: two system calls and a fresh page each time, about 10 us here. Where
   that happens is a matter of the stack depth a module is imported at, so any change
   of ours can move it: the Python 3.13.0 that `make bench` finds here frees and maps
   a chunk 500 to 1,800 times while importing one of our handlers (none for a bare
   `import boto3`), and 150 to 3,000 times for the same handler imported a few frames
   deeper (docs/cold-start.md, "The frame-stack chunks").

   CPython 3.13.13 (2026-04-07; python/cpython PR #146123) keeps the last freed chunk
   for the next call instead. Lambda moves its python3.13 runtime to new 3.13 releases
   (runtime management "Auto", which template.yaml leaves as it is), so a deployed
   function is expected to pay none of this (its log's INIT_START line names the
   runtime version). Loaded with LD_PRELOAD into every process the bench starts (both
   sides of every ratio), this file does what that fix does: the first chunk unmapped
   is kept, and handed back zeroed (as a fresh mapping is) to the next request for
   one. lambda_env.py loads it only into a 3.13 older than 3.13.13; the bench then
   measures 3.13.0 with this one fix, not the rest of 3.13.1-3.13.13.

   Only an anonymous read-write 16 KiB mapping this file handed out, unmapped whole, is
   kept: every other mmap and munmap goes to the kernel unchanged. One chunk is kept
   per process (CPython keeps one per thread: the same for an import, which runs on
   one). Not handled, as CPython never does it to a chunk: mremap or mprotect. */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define CHUNK 16384 /* _PY_DATA_STACK_CHUNK_SIZE */
#define TRACKED 64  /* live chunks remembered: one per 16 KiB of frames in use */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *kept;              /* the freed chunk held back, or NULL */
static void *handed[TRACKED];   /* chunk mappings handed out and not yet freed */

/* syscall(2) returns -1 and sets errno on failure, as mmap and munmap do. */
static void *kernel_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    long result = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    return result == -1 ? MAP_FAILED : (void *)result;
}

static int kernel_munmap(void *addr, size_t len)
{
    return (int)syscall(SYS_munmap, addr, len);
}

static void remember(void *chunk)
{
    for (int i = 0; i < TRACKED; i++) {
        if (handed[i] == NULL) {
            handed[i] = chunk;
            return;
        }
    }
}

/* Forget every chunk that [addr, addr + len) unmaps, even in part: the kernel may put
   another mapping there next. 1 when that range is exactly one chunk of ours. */
static int forget(void *addr, size_t len)
{
    char *start = addr, *end = start + len;
    int exactly_one = 0;
    for (int i = 0; i < TRACKED; i++) {
        char *chunk = handed[i];
        if (chunk != NULL && chunk < end && start < chunk + CHUNK) {
            exactly_one = chunk == start && len == CHUNK;
            handed[i] = NULL;
        }
    }
    return exactly_one;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (addr != NULL || len != CHUNK || prot != (PROT_READ | PROT_WRITE)
        || flags != (MAP_PRIVATE | MAP_ANONYMOUS) || fd != -1 || off != 0) {
        return kernel_mmap(addr, len, prot, flags, fd, off);
    }
    pthread_mutex_lock(&lock);
    void *chunk = kept;
    kept = NULL;
    pthread_mutex_unlock(&lock);
    if (chunk != NULL) {
        memset(chunk, 0, CHUNK);
    } else {
        chunk = kernel_mmap(addr, len, prot, flags, fd, off);
        if (chunk == MAP_FAILED) {
            return chunk;
        }
    }
    pthread_mutex_lock(&lock);
    remember(chunk);
    pthread_mutex_unlock(&lock);
    return chunk;
}

/* libpython links against mmap64 (the same call on 64-bit Linux). */
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

int munmap(void *addr, size_t len)
{
    pthread_mutex_lock(&lock);
    int keep = forget(addr, len) && kept == NULL;
    if (keep) {
        kept = addr;
    }
    pthread_mutex_unlock(&lock);
    return keep ? 0 : kernel_munmap(addr, len);
}
