package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Directories of the kwok sandbox where a command is looked up; each holds a
// shim under every name in shimNames.
var binDirs = []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"}

// Names that pods commonly run besides busybox's applets. In the pod they
// resolve (or fail with "not found") inside the pod's own tree.
var extraNames = []string{"bash", "busybox", "curl", "python", "python3", "perl", "node", "java", "ps", "tar", "env", "sh", "ls", "cat", "id"}

// clusterLayout are the host paths of one cluster that the supervisor needs,
// and whom its sandboxes run as.
type clusterLayout struct {
	dir      string // kwokctl's cluster dir
	pods     string // <dir>/pods/<ns>/<pod>/rootfs: pod trees (never inside the kwok sandbox)
	podLogs  string // <dir>/pod-logs/<ns>/<pod>/<container>.log: read by kwok for `kubectl logs`
	execDir  string // <dir>/pod-exec: the broker socket
	kwokBin  string
	bwrapBin string
	stage    string // where the stage mounts its tmpfs (stage.go)
	podUID   int    // host uid of every pod's root: podUIDBase + the API server port
	kwokUID  int    // host uid kwok-controller runs as: kwokUIDBase + the port
	cgroups  *cgroups
}

// Host uids, one pair per cluster. API server ports are unique among the live
// clusters of a machine, so the uids are too; 300000 and up stays clear of
// the learner shells' 200000-299999. src/server/cluster/pod-tree.ts (podOwner)
// computes the same uid to give each pod its tree.
const (
	podUIDBase  = 300000
	kwokUIDBase = 400000
)

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
	// The stage binds it without following a symlink: name the file itself.
	if resolved, err := filepath.EvalSymlinks(kwokBin); err == nil {
		kwokBin = resolved
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
	port, err := apiServerPort(kubeconfig)
	if err != nil {
		return fail("%v", err)
	}
	stage, err := stageDir()
	if err != nil {
		return fail("%v", err)
	}
	dir := filepath.Dir(kubeconfig)
	layout := &clusterLayout{
		dir:      dir,
		pods:     filepath.Join(dir, "pods"),
		podLogs:  filepath.Join(dir, "pod-logs"),
		execDir:  filepath.Join(dir, "pod-exec"),
		kwokBin:  kwokBin,
		bwrapBin: bwrapBin,
		stage:    stage,
		podUID:   podUIDBase + port,
		kwokUID:  kwokUIDBase + port,
	}
	b, err := budgetFromEnv()
	if err != nil {
		return fail("%v", err)
	}
	if layout.cgroups, err = newCgroups(b); err != nil {
		fmt.Fprintf(os.Stderr, "irlab-pod-sandbox: pod execs run without budgets (no cgroup): %v\n", err)
	}
	// When kwok is gone, so is every exec of this cluster.
	defer layout.cgroups.close()
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
	// Only kwok (its shims) may connect.
	if err := os.Chown(socket, layout.kwokUID, layout.kwokUID); err != nil {
		return fail("chown %s: %v", socket, err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		return fail("chmod %s: %v", socket, err)
	}
	go serveBroker(listener, layout)

	spec, err := kwokStage(layout, args)
	if err != nil {
		return fail("%v", err)
	}
	cmd, err := stageCommand(spec)
	if err != nil {
		return fail("%v", err)
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Unshareflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		return fail("start the kwok sandbox: %v", err)
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

// kwokStage: kwok, the shim, the pod logs and the broker socket's directory
// are bind mounted into the stage; kwok's kubeconfig, configuration and the
// certificates they name are copied there, readable by kwok's uid only (the
// originals are root's). The rest of the cluster's pki (its CA key among
// them) is not in the sandbox.
func kwokStage(l *clusterLayout, kwokArgs []string) (stageSpec, error) {
	self, err := os.Executable()
	if err != nil {
		return stageSpec{}, fmt.Errorf("find own path: %v", err)
	}
	spec := stageSpec{
		Dir: l.stage,
		Binds: []stageEntry{
			{Src: l.kwokBin, Name: "kwok"},
			{Src: self, Name: "shim"},
			{Src: l.podLogs, Name: "pod-logs"},
			{Src: l.execDir, Name: "exec"},
		},
		UID:   l.kwokUID,
		GID:   l.kwokUID,
		Bwrap: l.bwrapBin,
	}
	files, err := kwokFiles(kwokArgs)
	if err != nil {
		return stageSpec{}, err
	}
	for i, f := range files {
		spec.Copies = append(spec.Copies, stageEntry{Src: f, Name: fmt.Sprintf("file-%d", i)})
	}
	spec.Args = kwokSandboxArgs(l, files, kwokArgs)
	return spec, nil
}

// kwokFiles: the files named by kwok's flags and by its kubeconfig, once each.
func kwokFiles(kwokArgs []string) ([]string, error) {
	var files []string
	add := func(path string) {
		if path != "" && !contains(files, path) {
			files = append(files, path)
		}
	}
	for _, flag := range []string{"--kubeconfig", "--config", "--tls-cert-file", "--tls-private-key-file"} {
		add(flagValue(kwokArgs, flag))
	}
	kubeconfig := flagValue(kwokArgs, "--kubeconfig")
	data, err := os.ReadFile(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kwok's kubeconfig: %v", err)
	}
	for _, m := range kubeconfigFile.FindAllStringSubmatch(string(data), -1) {
		path := strings.Trim(m[1], `"'`)
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(kubeconfig), path)
		}
		add(path)
	}
	return files, nil
}

var (
	kubeconfigFile   = regexp.MustCompile(`(?m)^\s*(?:certificate-authority|client-certificate|client-key):\s*(\S+)\s*$`)
	kubeconfigServer = regexp.MustCompile(`(?m)^\s*server:\s*["']?https?://[^\s/"']*:(\d+)`)
)

// apiServerPort: the port of the API server this kwok talks to (kwokctl
// writes one server, on loopback).
func apiServerPort(kubeconfig string) (int, error) {
	data, err := os.ReadFile(kubeconfig)
	if err != nil {
		return 0, fmt.Errorf("read %s: %v", kubeconfig, err)
	}
	m := kubeconfigServer.FindStringSubmatch(string(data))
	if m == nil {
		return 0, fmt.Errorf("%s names no https://host:port server", kubeconfig)
	}
	port, err := strconv.Atoi(m[1])
	if err != nil || port <= 0 || port > 65535 {
		return 0, fmt.Errorf("%s: bad server port %q", kubeconfig, m[1])
	}
	return port, nil
}

// kwokSandboxArgs: a tmpfs root holding kwok, the staged copies of its
// config, kubeconfig and certificates (at their host paths, as kwokctl passed
// them), the pod logs (read-only) and the broker socket; every command
// directory is shims only. The host network is shared: kwok must reach its
// API server on loopback. kwok runs as kwokUID mapped to itself in a user
// namespace of its own: no capability anywhere, no further user namespaces,
// the pods' seccomp filter.
func kwokSandboxArgs(l *clusterLayout, files []string, kwokArgs []string) []string {
	s := l.stage
	a := []string{
		"--die-with-parent", "--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL",
		"--tmpfs", "/", "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev", "--tmpfs", "/tmp",
		"--ro-bind", s + "/kwok", sandboxKwok,
		"--ro-bind", s + "/shim", sandboxShim,
		"--ro-bind", s + "/pod-logs", l.podLogs,
		"--ro-bind", s + "/exec", "/run/irlab",
	}
	for i, f := range files {
		a = append(a, "--ro-bind", fmt.Sprintf("%s/file-%d", s, i), f)
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
