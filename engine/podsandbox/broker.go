package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"unsafe"
)

// A namespace (DNS label) and a pod name (DNS subdomain): nothing else, so a
// crafted IRLAB_POD cannot name a path outside <cluster>/pods.
var (
	namespacePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	podPattern       = regexp.MustCompile(`^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$`)
)

const podPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func serveBroker(listener *net.UnixListener, l *clusterLayout) {
	for {
		conn, err := listener.AcceptUnix()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			if err := handle(conn, l); err != nil {
				fmt.Fprintf(os.Stderr, "irlab-pod-sandbox: exec refused: %v\n", err)
			}
		}()
	}
}

func handle(conn *net.UnixConn, l *clusterLayout) error {
	buf := make([]byte, 1<<20)
	oob := make([]byte, syscall.CmsgSpace(3*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return err
	}
	files, err := receivedFiles(oob[:oobn])
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if err != nil {
		return err
	}
	var req request
	if err := json.Unmarshal(buf[:n], &req); err != nil || len(req.Argv) == 0 {
		return errors.New("malformed request")
	}
	reply := func(code int) {
		out := make([]byte, 4)
		binary.BigEndian.PutUint32(out, uint32(code))
		_, _ = conn.Write(out)
	}
	pod, env := podFromEnv(req.Env)
	rootfs, err := podRoot(l, pod)
	if err != nil {
		fmt.Fprintf(files[2], "irlab: %v\n", err)
		reply(126)
		return err
	}
	tty := isTerminal(files[0])
	_, name, _ := strings.Cut(pod, "/")
	cg := l.execCgroup()
	// The tree is staged at <stage>/rootfs: bwrap, running as the pod's uid,
	// could not reach it under the cluster directory.
	spec := stageSpec{
		Dir:   l.stage,
		Binds: []stageEntry{{Src: rootfs, Name: "rootfs"}},
		UID:   l.podUID,
		GID:   l.podUID,
		Bwrap: l.bwrapBin,
		Args:  podSandboxArgs(l.stage+"/rootfs", name, env, tty, req.Argv),
	}
	if cg != nil {
		spec.Cgroups = cg.dirs
	}
	defer cg.remove()
	cmd, err := stageCommand(spec)
	if err != nil {
		fmt.Fprintf(files[2], "irlab: cannot start the pod sandbox: %v\n", err)
		reply(126)
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = files[0], files[1], files[2]
	// Its own session; with a TTY the pty becomes its controlling terminal, so
	// ^C, job control and window-size changes reach the pod's shell.
	cmd.SysProcAttr = stageSysProcAttr(tty)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(files[2], "irlab: cannot start the pod sandbox: %v\n", err)
		reply(126)
		return err
	}
	// kwok kills the shim when kubectl goes away: the socket closes, and the
	// command must not outlive the session.
	// Once the command is reaped its pid may be reused: never signal it then.
	done := make(chan struct{})
	go func() {
		_, _ = conn.Read(make([]byte, 1))
		select {
		case <-done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cg.kill()
		}
	}()
	err = cmd.Wait()
	close(done)
	// Nothing of the command may outlive it, and its cgroup goes before the
	// exit code does: whoever waits for the code finds the budget released.
	cg.remove()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		reply(0)
	case errors.As(err, &exitErr):
		reply(exitCode(exitErr.ProcessState))
	default:
		reply(126)
	}
	return nil
}

// execCgroup: a cgroup with the exec budget, or nil (budgets off: said once).
func (l *clusterLayout) execCgroup() *execCgroup {
	if l.cgroups == nil {
		return nil
	}
	cg, err := l.cgroups.create()
	if err != nil {
		l.cgroups.warn.Do(func() {
			fmt.Fprintf(os.Stderr, "irlab-pod-sandbox: pod execs run without budgets: cannot create a cgroup: %v\n", err)
		})
		return nil
	}
	return cg
}

// podSandboxArgs: the pod's tree is `/`, read-write like a container's
// writable layer; fresh /proc (own pid namespace) with /proc/sys read-only,
// and /dev; no network, no capabilities, and an environment of the pod's own.
// bwrap runs as the pod's host uid (the stage made it so) and maps it to root
// in a user namespace of its own: the pod's root owns its tree and nothing
// else. No user namespace can be made inside: the seccomp filter refuses
// unshare, setns and clone with namespace flags (clone3 answers ENOSYS).
// --disable-userns is not used: it nests one more user namespace, so the
// pod's /proc/self/uid_map would read `0 0 1` (relative to that namespace)
// and hide the real mapping, `0 <pod uid> 1`, from whoever checks it.
// bwrap always sets no_new_privs.
func podSandboxArgs(rootfs, podName string, env []string, tty bool, argv []string) []string {
	a := []string{
		// --as-pid-1: the command is PID 1 of the pod's pid namespace, so no
		// bwrap process (whose argv names host paths) is visible from inside.
		"--die-with-parent", "--unshare-all", "--unshare-user", "--uid", "0", "--gid", "0",
		"--as-pid-1", "--hostname", podName, "--cap-drop", "ALL",
		"--bind", rootfs, "/", "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev",
		"--chdir", "/", "--clearenv",
		"--setenv", "PATH", podPath, "--setenv", "HOSTNAME", podName, "--setenv", "HOME", "/root",
	}
	if tty {
		a = append(a, "--setenv", "TERM", "xterm")
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		a = append(a, "--setenv", k, v)
	}
	a = append(a, "--")
	return append(a, argv...)
}

// podFromEnv: IRLAB_POD=<namespace>/<pod>, and the container's own variables
// passed as IRLAB_ENV_<NAME>=<value>.
func podFromEnv(environ []string) (string, []string) {
	pod := ""
	var env []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if k == "IRLAB_POD" {
			pod = v
		} else if name, ok := strings.CutPrefix(k, "IRLAB_ENV_"); ok && name != "" {
			env = append(env, name+"="+v)
		}
	}
	return pod, env
}

// podRoot checks the pod name and that its tree is a real directory, and
// repairs /proc and /dev mount points: bubblewrap mounts onto them, and a
// symlink planted there must never lead a mount outside the tree.
func podRoot(l *clusterLayout, pod string) (string, error) {
	ns, name, ok := strings.Cut(pod, "/")
	if !ok || !namespacePattern.MatchString(ns) || !podPattern.MatchString(name) || strings.Contains(name, "..") {
		return "", fmt.Errorf("no pod runtime for this pod (IRLAB_POD=%q)", pod)
	}
	path := l.pods
	for _, part := range []string{ns, name, "rootfs"} {
		path = filepath.Join(path, part)
		info, err := os.Lstat(path)
		if err != nil || !info.IsDir() {
			return "", fmt.Errorf("pod %s has no filesystem yet (%s)", pod, path)
		}
	}
	for _, mountPoint := range []string{"proc", "dev"} {
		p := filepath.Join(path, mountPoint)
		info, err := os.Lstat(p)
		if err == nil && info.IsDir() {
			continue
		}
		if err == nil {
			if err := os.Remove(p); err != nil {
				return "", fmt.Errorf("pod %s: /%s is not a directory and cannot be replaced: %v", pod, mountPoint, err)
			}
		}
		if err := os.Mkdir(p, 0o555); err != nil {
			return "", fmt.Errorf("pod %s: create /%s: %v", pod, mountPoint, err)
		}
	}
	return path, nil
}

func receivedFiles(oob []byte) ([]*os.File, error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), fmt.Sprintf("fd%d", fd)))
		}
	}
	if len(files) != 3 {
		return files, fmt.Errorf("expected stdin, stdout and stderr, got %d descriptors", len(files))
	}
	return files, nil
}

func isTerminal(f *os.File) bool {
	var termios syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&termios)))
	return errno == 0
}
