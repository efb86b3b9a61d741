// irlab-pod-sandbox makes `kubectl exec` on an embedded (kwok) cluster act on
// the pod's own directory tree instead of the host.
//
// kwok-controller serves the kubelet API and runs an exec's command with
// exec.Command(cmd[0], ...) in its own process context. This binary plays
// four roles, chosen by the name it is started under:
//
//   - kwok-controller (kwokctl starts it under that name): the supervisor. It
//     runs the real kwok-controller inside a bubblewrap sandbox whose only
//     executables are kwok itself and this binary, linked under every common
//     command name in /bin, /usr/bin, ... So whatever cmd[0] is ("sh",
//     "/bin/sh", "/usr/bin/tar"), kwok starts a shim. The pod trees are not
//     in that sandbox at all. kwok runs as an unprivileged host uid of its
//     cluster. The supervisor also serves the exec broker.
//   - any other name inside the sandbox: the shim. It hands its argv and its
//     stdin/stdout/stderr file descriptors to the broker over a unix socket
//     and exits with the command's exit code.
//   - the broker (in the supervisor, outside the kwok sandbox): validates the
//     pod named by the IRLAB_POD variable (set per pod by the pod runtime in
//     kwok's Exec object), and runs the command under a second bubblewrap
//     sandbox with that pod's rootfs as `/`, fresh /proc (its /proc/sys
//     read-only) and /dev, its own user, pid, net, ipc and uts namespaces, no
//     capabilities, the learner shell's seccomp filter, as the cluster's
//     unprivileged pod uid (mapped to root inside) and in a cgroup of its own
//     with a pids, memory and CPU budget (cgroup.go).
//   - irlab-sandbox-stage: the root helper that prepares both sandboxes
//     (stage.go) and becomes their uid.
//
// A shell that reached the kwok sandbox could see kwok's credentials and the
// host network; it cannot get there, because nothing in that sandbox but the
// shim and kwok can be executed.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// version is stamped by engine/build.sh with a hash of the sources, so the
// build script knows when to rebuild.
var version = "dev"

// The broker socket's path inside the kwok sandbox.
const sandboxSocket = "/run/irlab/exec.sock"

// Where the shim binary and kwok are mounted inside the kwok sandbox.
const (
	sandboxShim = "/irlab/pod-shim"
	sandboxKwok = "/irlab/kwok"
)

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	// engine/build.sh names the binary irlab-pod-sandbox-<hash of its sources>.
	tool := strings.HasPrefix(name, "irlab-pod-sandbox") && len(args) == 1
	switch {
	case tool && args[0] == "--version":
		fmt.Println("irlab-pod-sandbox " + version)
	case tool && args[0] == "--seccomp-filter":
		_, _ = os.Stdout.Write(seccompFilter())
	case name == stageName:
		os.Exit(runStage(args))
	case name == "kwok-controller":
		os.Exit(supervise(args))
	default:
		os.Exit(shim(os.Args))
	}
}

func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "irlab-pod-sandbox: "+format+"\n", a...)
	return 126
}
