// irlab-pod-sandbox makes `kubectl exec` on an embedded (kwok) cluster act on
// the pod's own directory tree instead of the host.
//
// kwok-controller serves the kubelet API and runs an exec's command with
// exec.Command(cmd[0], ...) in its own process context. This binary plays
// three roles, chosen by the name it is started under:
//
//   - kwok-controller (kwokctl starts it under that name): the supervisor. It
//     runs the real kwok-controller inside a bubblewrap sandbox whose only
//     executables are kwok itself and this binary, linked under every common
//     command name in /bin, /usr/bin, ... So whatever cmd[0] is ("sh",
//     "/bin/sh", "/usr/bin/tar"), kwok starts a shim. The pod trees are not
//     in that sandbox at all. The supervisor also serves the exec broker.
//   - any other name inside the sandbox: the shim. It hands its argv and its
//     stdin/stdout/stderr file descriptors to the broker over a unix socket
//     and exits with the command's exit code.
//   - the broker (in the supervisor, outside the kwok sandbox): validates the
//     pod named by the IRLAB_POD variable (set per pod by the pod runtime in
//     kwok's Exec object), and runs the command under a second bubblewrap
//     sandbox with that pod's rootfs as `/`, fresh /proc and /dev, its own
//     pid, net, ipc and uts namespaces and no capabilities.
//
// A shell that reached the kwok sandbox could see kwok's credentials and the
// host network; it cannot get there, because nothing in that sandbox but the
// shim and kwok can be executed.
package main

import (
	"fmt"
	"os"
	"path/filepath"
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
	switch {
	case name == "irlab-pod-sandbox" && len(args) == 1 && args[0] == "--version":
		fmt.Println("irlab-pod-sandbox " + version)
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
