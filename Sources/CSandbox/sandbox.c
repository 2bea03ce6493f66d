// The sandbox of `pare eval`: resource limits, not a security boundary (no network or filesystem isolation). Fork, then in the child only async-signal-safe calls (setpgid, setrlimit, open,
// dup2, close, chdir, execve) before exec, since the parent is multi-threaded (OpenBLAS). A CLOEXEC pipe tells the
// parent whether exec succeeded: it is closed by a successful exec and carries errno otherwise. The parent polls
// waitpid with a short sleep (no SIGCHLD handler, so nothing of the caller's signal handling changes) and kills
// the child's process group at the deadline and again after the child ends, for anything it left behind.
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void limit(int resource, int64_t value) {
    if (value <= 0) return;
    struct rlimit r = {(rlim_t)value, (rlim_t)value};
    setrlimit(resource, &r);
}

/// The child after fork: set up, exec, or report errno through `report` and exit 127.
static void child(const char *const argv[], const char *const envp[], const char *cwd, const char *stdout_path,
                  const char *stderr_path, const pare_sandbox_limits *limits, int report) {
    int err = 0;
    setpgid(0, 0);
    if (chdir(cwd) != 0) { err = errno; goto fail; }
    int in = open("/dev/null", O_RDONLY);
    int o = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || o < 0 || e < 0) { err = errno; goto fail; }
    if (dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) { err = errno; goto fail; }
    // Every other descriptor of the caller is closed (the report pipe is CLOEXEC and closes at exec): by
    // close_range where the kernel has it (5.9+), else one by one up to the descriptor limit.
    long top = sysconf(_SC_OPEN_MAX);
    if (top < 0 || top > (1 << 20)) top = 1 << 20;
    if (report > 3) {
        if (syscall(SYS_close_range, 3u, (unsigned)report - 1, 0u) != 0)
            for (int fd = 3; fd < report; fd++) close(fd);
    }
    if (syscall(SYS_close_range, (unsigned)report + 1, ~0u, 0u) != 0)
        for (long fd = report + 1; fd < top; fd++) close((int)fd);
    limit(RLIMIT_AS, limits->address_space_bytes);
    if (limits->cpu_seconds > 0) {  // soft < hard, so the soft limit sends SIGXCPU (a timeout), not SIGKILL
        struct rlimit cpu = {(rlim_t)limits->cpu_seconds, (rlim_t)limits->cpu_seconds + 1};
        setrlimit(RLIMIT_CPU, &cpu);
    }
    limit(RLIMIT_FSIZE, limits->file_bytes);
    limit(RLIMIT_NOFILE, limits->open_files);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    // Default dispositions and an empty mask: the caller's ignored signals (SIGPIPE, SIGHUP under nohup, ...) must
    // not be inherited. Handlers are reset by exec anyway; ignored signals are not.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);  // sigaction: async-signal-safe
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    execve(argv[0], (char *const *)argv, (char *const *)envp);
    err = errno;
fail:
    (void)!write(report, &err, sizeof err);
    _exit(127);
}

int pare_sandbox_run(const char *const argv[], const char *const envp[], const char *cwd, const char *stdout_path,
                     const char *stderr_path, const pare_sandbox_limits *limits, pare_sandbox_result *out) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    double start = now_seconds();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        return err;
    }
    if (pid == 0) child(argv, envp, cwd, stdout_path, stderr_path, limits, fds[1]);
    setpgid(pid, pid);  // also from the parent, so the group exists before any kill below
    close(fds[1]);
    int err = 0;
    ssize_t n;
    do { n = read(fds[0], &err, sizeof err); } while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof err) {  // exec failed: reap the child and say why
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        return err ? err : ENOEXEC;
    }

    int status = 0, timed_out = 0;
    long sleep_ns = 200000;  // 0.2 ms, doubling to 20 ms: quick programs are reaped quickly
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {  // the child is lost (reaped elsewhere): fail closed, never a pass
            int err = errno;
            kill(-pid, SIGKILL);
            return err;
        }
        if (limits->wall_seconds > 0 && now_seconds() - start >= limits->wall_seconds) {
            timed_out = 1;
            kill(-pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            break;
        }
        struct timespec ts = {0, sleep_ns};
        nanosleep(&ts, NULL);
        if (sleep_ns < 20000000) sleep_ns *= 2;
    }
    kill(-pid, SIGKILL);  // whatever the program started in its group
    out->seconds = now_seconds() - start;
    out->timed_out = timed_out;
    out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    out->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return 0;
}
