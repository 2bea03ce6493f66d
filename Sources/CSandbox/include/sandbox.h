// Running one untrusted program: its own process group, resource limits, a wall-clock deadline, no inherited
// environment or file descriptors. Used by `pare eval` to execute generated code.
#ifndef PARE_SANDBOX_H
#define PARE_SANDBOX_H

#include <stdint.h>

/// How a sandboxed run ended.
typedef struct {
    /// The exit status when the program exited normally, else -1.
    int exit_code;
    /// The signal that ended the program (0 when it exited). SIGKILL after a timeout.
    int signal;
    /// 1 when the wall-clock deadline passed and the process group was killed.
    int timed_out;
    /// Wall seconds from fork to reaping.
    double seconds;
} pare_sandbox_result;

/// Limits of one run; 0 leaves a limit unset.
typedef struct {
    /// Wall-clock seconds before the whole process group gets SIGKILL.
    double wall_seconds;
    /// RLIMIT_AS: bytes of address space.
    int64_t address_space_bytes;
    /// RLIMIT_CPU: CPU seconds (SIGXCPU, then SIGKILL).
    int64_t cpu_seconds;
    /// RLIMIT_FSIZE: the largest file the program may write.
    int64_t file_bytes;
    /// RLIMIT_NOFILE: open file descriptors.
    int64_t open_files;
} pare_sandbox_limits;

/// Runs `argv[0]` (an absolute path) with `argv` and exactly the environment `envp` (NULL-terminated arrays), in
/// directory `cwd`, stdin from /dev/null, stdout and stderr written to the files `stdout_path` and `stderr_path`
/// (created or truncated), in a new process group with `limits` applied, no core dumps and no descriptor of the
/// caller open. Waits until the program ends or the deadline passes, then kills the whole group (so nothing it
/// started outlives the run). Returns 0 and fills `out`, or an errno value when the program could not be started
/// (fork failed, cwd or an output file could not be opened, exec failed: the errno of the step that failed).
int pare_sandbox_run(const char *const argv[], const char *const envp[], const char *cwd, const char *stdout_path,
                     const char *stderr_path, const pare_sandbox_limits *limits, pare_sandbox_result *out);

#endif
