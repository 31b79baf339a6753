// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "net/server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "harness/options.hpp"  // die()

namespace zuki_bench::net {

const std::string& self_path() {
    static const std::string path = [] {
        std::error_code ec;
        auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
        if (ec) die("cannot resolve /proc/self/exe: " + ec.message());
        return p.string();
    }();
    return path;
}

ServerProcess::ServerProcess(const ServerSpec& spec, const std::string& workload)
    : what_(std::string("server ") + name_of(spec.backend) + "(" + std::to_string(spec.threads) +
            ") " + workload) {
    const std::string& exe = self_path();
    const std::string threads = std::to_string(spec.threads);
    std::vector<std::string> args = {exe,      "--serve",   name_of(spec.backend),
                                     workload, "--threads", threads};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int in[2], out[2];  // in: parent -> child stdin; out: child stdout -> parent
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        die(what_ + ": pipe: " + std::strerror(errno));
    const pid_t parent = getpid();
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ < 0) die(what_ + ": fork: " + std::strerror(errno));
    if (pid_ == 0) {
        // Child: only async-signal-safe calls until exec.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(5);  // the parent died before prctl
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) _exit(5);
        execv(exe.c_str(), argv.data());
        _exit(5);
    }
    close(in[0]);
    close(out[1]);
    to_child_ = fdopen(in[1], "w");
    from_child_ = fdopen(out[0], "r");
    if (to_child_ == nullptr || from_child_ == nullptr) die(what_ + ": fdopen failed");
    const std::string line = read_line();
    char* end = nullptr;
    const long port = std::strtol(line.c_str(), &end, 10);
    if (end == line.c_str() || port < 0 || port > 65535)
        die(what_ + ": bad port line '" + line + "'");
    port_ = static_cast<unsigned short>(port);
}

ServerProcess::~ServerProcess() {
    // Normally finish() ran; on any other path the child gets end of file and SIGKILL.
    if (pid_ > 0) {
        if (to_child_) std::fclose(to_child_);
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (from_child_) std::fclose(from_child_);
}

namespace {

std::string exit_text(int status) {
    if (WIFSIGNALED(status))
        return "was killed by signal " + std::to_string(WTERMSIG(status)) +
               (WTERMSIG(status) == SIGALRM ? " (its shutdown took over 20 s: a hang?)" : "");
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

void ServerProcess::lost_child(const std::string& what) {
    // Say how the child ended if it did (it may have printed why on stderr).
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        die(what_ + ": " + what + ": the child " + exit_text(status));
    }
    die(what_ + ": " + what);
}

std::string ServerProcess::read_line() {
    char buf[256];
    if (std::fgets(buf, sizeof buf, from_child_) == nullptr)
        lost_child("no reply (end of its output)");
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

std::string ServerProcess::command(const std::string& line) {
    if (std::fprintf(to_child_, "%s\n", line.c_str()) < 0 || std::fflush(to_child_) != 0)
        lost_child("cannot write to the child");
    return read_line();
}

std::int64_t ServerProcess::mark() {
    const std::string r = command("mark");
    char* end = nullptr;
    const long long v = std::strtoll(r.c_str(), &end, 10);
    if (end == r.c_str() || v < 0) die(what_ + ": bad mark reply '" + r + "'");
    return v;
}

void ServerProcess::finish() {
    std::fclose(to_child_);
    to_child_ = nullptr;
    int status = 0;
    pid_t r;
    do r = waitpid(pid_, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r != pid_) die(what_ + ": waitpid: " + std::strerror(errno));
    pid_ = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die(what_ + ": the child " + exit_text(status));
}

}  // namespace zuki_bench::net
