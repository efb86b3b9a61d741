package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Directories of the kwok sandbox where a command is looked up; each holds a
// shim under every name in shimNames.
var binDirs = []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"}

// Names that pods commonly run besides busybox's applets. In the pod they
// resolve (or fail with "not found") inside the pod's own tree.
var extraNames = []string{"bash", "busybox", "curl", "python", "python3", "perl", "node", "java", "ps", "tar", "env", "sh", "ls", "cat", "id"}

// clusterLayout are the host paths of one cluster that the supervisor needs.
type clusterLayout struct {
	dir      string // kwokctl's cluster dir
	pods     string // <dir>/pods/<ns>/<pod>/rootfs: pod trees (never inside the kwok sandbox)
	podLogs  string // <dir>/pod-logs/<ns>/<pod>/<container>.log: read by kwok for `kubectl logs`
	execDir  string // <dir>/pod-exec: the broker socket
	kwokBin  string
	bwrapBin string
}

func supervise(args []string) int {
	kwokBin := os.Getenv("IRLAB_KWOK_BINARY")
	if kwokBin == "" {
		self, err := os.Executable()
		if err != nil {
			return fail("find own path: %v", err)
		}
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		kwokBin = filepath.Join(filepath.Dir(self), "kwok")
	}
	// kwokctl asks components for their version; nothing to sandbox then.
	for _, a := range args {
		if a == "--version" || a == "--help" || a == "-h" {
			if err := syscall.Exec(kwokBin, append([]string{kwokBin}, args...), os.Environ()); err != nil {
				return fail("exec %s: %v", kwokBin, err)
			}
		}
	}
	kubeconfig := flagValue(args, "--kubeconfig")
	if kubeconfig == "" {
		return fail("kwok-controller was started without --kubeconfig; cannot tell which cluster it serves")
	}
	bwrapBin, err := exec.LookPath("bwrap")
	if err != nil {
		return fail("bubblewrap (bwrap) is not installed; run `irlab engine build` (it installs Debian's bubblewrap)")
	}
	dir := filepath.Dir(kubeconfig)
	layout := clusterLayout{
		dir:      dir,
		pods:     filepath.Join(dir, "pods"),
		podLogs:  filepath.Join(dir, "pod-logs"),
		execDir:  filepath.Join(dir, "pod-exec"),
		kwokBin:  kwokBin,
		bwrapBin: bwrapBin,
	}
	for _, d := range []string{layout.pods, layout.podLogs, layout.execDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fail("create %s: %v", d, err)
		}
	}

	socket := filepath.Join(layout.execDir, "exec.sock")
	_ = os.Remove(socket)
	listener, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: socket, Net: "unixpacket"})
	if err != nil {
		return fail("listen on %s: %v", socket, err)
	}
	defer listener.Close()
	go serveBroker(listener, layout)

	cmd := exec.Command(bwrapBin, kwokSandboxArgs(layout, args)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fail("start bwrap: %v", err)
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitCode(exitErr.ProcessState)
	}
	if err != nil {
		return fail("bwrap: %v", err)
	}
	return 0
}

// kwokSandboxArgs: a tmpfs root holding kwok, its own config, kubeconfig and
// certificates (at their host paths, as kwokctl passed them), the pod logs
// (read-only) and the broker socket; every command directory is shims only.
// The host network is shared: kwok must reach its API server on loopback.
func kwokSandboxArgs(l clusterLayout, kwokArgs []string) []string {
	a := []string{
		// kwok needs no capability (its ports are above 1024); without them even
		// code that did run here could not mount, ptrace or open files by handle.
		"--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL",
		"--tmpfs", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
		"--ro-bind", l.kwokBin, sandboxKwok,
		"--ro-bind", l.podLogs, l.podLogs,
		"--ro-bind", l.execDir, "/run/irlab",
	}
	self, _ := os.Executable()
	a = append(a, "--ro-bind", self, sandboxShim)
	for _, flag := range []string{"--kubeconfig", "--config", "--tls-cert-file", "--tls-private-key-file"} {
		if v := flagValue(kwokArgs, flag); v != "" {
			a = append(a, "--ro-bind", v, v)
		}
	}
	// The client certificates the kubeconfig names live in pki/.
	if pki := filepath.Join(l.dir, "pki"); isDir(pki) {
		a = append(a, "--ro-bind", pki, pki)
	}
	for _, d := range binDirs {
		a = append(a, "--dir", d)
		for _, name := range shimNames() {
			a = append(a, "--symlink", sandboxShim, filepath.Join(d, name))
		}
	}
	a = append(a, "--clearenv", "--setenv", "PATH", strings.Join([]string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}, ":"))
	// GOGC / GOMEMLIMIT / GOMAXPROCS from kwokctl's component env tune kwok itself.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GO") {
			k, v, _ := strings.Cut(kv, "=")
			a = append(a, "--setenv", k, v)
		}
	}
	a = append(a, "--chdir", "/", "--", sandboxKwok)
	return append(a, kwokArgs...)
}

var cachedNames []string

// shimNames: busybox's applets (asked from the host's busybox-static) plus
// extraNames; never "kwok-controller", the supervisor's own name.
func shimNames() []string {
	if cachedNames != nil {
		return cachedNames
	}
	set := map[string]bool{}
	for _, n := range extraNames {
		set[n] = true
	}
	if bb, err := exec.LookPath("busybox"); err == nil {
		if out, err := exec.Command(bb, "--list").Output(); err == nil {
			for _, n := range strings.Fields(string(out)) {
				set[n] = true
			}
		}
	}
	delete(set, "kwok-controller")
	for n := range set {
		if !strings.ContainsAny(n, "/") && n != "" && n != "." && n != ".." {
			cachedNames = append(cachedNames, n)
		}
	}
	sort.Strings(cachedNames)
	return cachedNames
}

func flagValue(args []string, flag string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

func exitCode(state *os.ProcessState) int {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return state.ExitCode()
}
