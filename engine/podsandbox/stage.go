package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
)

// The stage: a short-lived root helper between the supervisor (or broker) and
// bubblewrap. bwrap runs as an unprivileged host uid, so it cannot reach paths
// under a directory like /root (mode 0700), where the cluster directories
// usually live, nor read the cluster's root-only certificates. The stage,
// started by us as root in a mount namespace of its own, mounts a tmpfs on
// stageSpec.Dir, bind mounts the few host paths the sandbox needs into it,
// copies the files it must read (owned by the sandbox's uid), joins the
// exec's cgroups, then becomes the sandbox's uid and execs bwrap, which only
// ever names paths under Dir. Nothing of this is visible on the host: the
// mount namespace dies with the sandbox.
//
// It is this same binary, started as /proc/self/exe under the name stageName.

const stageName = "irlab-sandbox-stage"

type stageSpec struct {
	// Dir: an existing host directory (stageDir); our tmpfs covers it in our namespace only.
	Dir string `json:"dir"`
	// Binds: host directories or files bind mounted at Dir/Name (checked by the caller).
	Binds []stageEntry `json:"binds"`
	// Copies: host files copied to Dir/Name, owned by UID, mode 0400.
	Copies []stageEntry `json:"copies"`
	// Cgroups: directories whose cgroup.procs we join before anything runs (v1: one per controller).
	Cgroups []string `json:"cgroups"`
	UID     int      `json:"uid"`
	GID     int      `json:"gid"`
	Bwrap   string   `json:"bwrap"`
	// Args: bwrap's arguments; the stage puts `--seccomp FD` in front.
	Args []string `json:"args"`
}

type stageEntry struct {
	Src  string `json:"src"`
	Name string `json:"name"`
}

// stageDir: a directory every Linux host has, that bubblewrap itself does not
// use (it builds its new root on /tmp) and that the sandbox never sees.
func stageDir() (string, error) {
	for _, d := range []string{"/mnt", "/media", "/srv", "/opt"} {
		if info, err := os.Lstat(d); err == nil && info.IsDir() {
			return d, nil
		}
	}
	return "", errors.New("no /mnt, /media, /srv or /opt directory to stage the sandbox on; create /mnt")
}

// stageCommand: the command that runs spec; the caller sets stdio and SysProcAttr
// (stageSysProcAttr gives the mount namespace).
func stageCommand(spec stageSpec) (*exec.Cmd, error) {
	body, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("/proc/self/exe", string(body))
	cmd.Args[0] = stageName
	cmd.Env = []string{}
	return cmd, nil
}

// stageSysProcAttr: a private mount namespace (Go makes / private in it), its
// own session, and death with the broker's thread that started it.
func stageSysProcAttr(tty bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Setsid:       true,
		Setctty:      tty,
		Ctty:         0,
		Pdeathsig:    syscall.SIGKILL,
		Unshareflags: syscall.CLONE_NEWNS,
	}
}

func runStage(args []string) int {
	// Pdeathsig and the final execve belong to one thread.
	runtime.LockOSThread()
	if len(args) != 1 || os.Getuid() != 0 {
		return fail("%s is started by irlab-pod-sandbox itself, as root", stageName)
	}
	var spec stageSpec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil || spec.UID <= 0 || spec.GID <= 0 || spec.Bwrap == "" {
		return fail("stage: malformed spec")
	}
	parent := os.Getppid()
	pid := []byte(strconv.Itoa(os.Getpid()))
	for _, dir := range spec.Cgroups {
		if err := os.WriteFile(dir+"/cgroup.procs", pid, 0); err != nil {
			return fail("stage: join cgroup %s: %v", dir, err)
		}
	}
	if err := syscall.Mount("tmpfs", spec.Dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755,size=16m"); err != nil {
		return fail("stage: mount a tmpfs on %s: %v", spec.Dir, err)
	}
	for _, b := range spec.Binds {
		if err := stageBind(spec.Dir, b); err != nil {
			return fail("stage: %v", err)
		}
	}
	for _, c := range spec.Copies {
		if err := stageCopy(spec.Dir, c, spec.UID, spec.GID); err != nil {
			return fail("stage: %v", err)
		}
	}
	bwrapArgs, filterFD := []string{"bwrap"}, -1
	if filter := seccompFilter(); filter != nil {
		var err error
		if filterFD, err = seccompFD(filter); err != nil {
			return fail("stage: seccomp filter: %v", err)
		}
		bwrapArgs = append(bwrapArgs, "--seccomp", strconv.Itoa(filterFD))
	}
	bwrapArgs = append(bwrapArgs, spec.Args...)
	// Descriptors inherited from whoever started the server (Go's exec passes
	// on every one without close-on-exec) must not reach the sandbox.
	if err := closeOnExecAbove2(filterFD); err != nil {
		return fail("stage: %v", err)
	}
	if err := os.Chdir("/"); err != nil {
		return fail("stage: chdir /: %v", err)
	}
	if err := dropTo(spec.UID, spec.GID); err != nil {
		return fail("stage: become uid %d: %v", spec.UID, err)
	}
	// A uid change clears the parent-death signal: set it again, and make sure
	// the broker did not die in between.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		return fail("stage: prctl(PR_SET_PDEATHSIG): %v", errno)
	}
	if os.Getppid() != parent {
		return 126
	}
	err := syscall.Exec(spec.Bwrap, bwrapArgs, []string{})
	return fail("stage: exec %s: %v", spec.Bwrap, err)
}

func dropTo(uid, gid int) error {
	if err := syscall.Setgroups(nil); err != nil {
		return err
	}
	if err := syscall.Setgid(gid); err != nil {
		return err
	}
	return syscall.Setuid(uid)
}

// stageBind mounts src (opened without following a symlink; the caller checked
// the path) at dir/name.
func stageBind(dir string, e stageEntry) error {
	fd, err := syscall.Open(e.Src, oPath|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %v", e.Src, err)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat %s: %v", e.Src, err)
	}
	target := dir + "/" + e.Name
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		err = os.Mkdir(target, 0o755)
	case syscall.S_IFREG:
		var f *os.File
		if f, err = os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o444); err == nil {
			err = f.Close()
		}
	default:
		return fmt.Errorf("%s is neither a directory nor a regular file", e.Src)
	}
	if err != nil {
		return fmt.Errorf("mount point %s: %v", target, err)
	}
	if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), target, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %v", e.Src, err)
	}
	return nil
}

// stageCopy copies a regular file (never through a symlink) for the sandbox's uid to read.
func stageCopy(dir string, e stageEntry, uid, gid int) error {
	src, err := os.OpenFile(e.Src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open %s: %v", e.Src, err)
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil || !info.Mode().IsRegular() || info.Size() > 1<<20 {
		return fmt.Errorf("%s is not a regular file under 1 MiB", e.Src)
	}
	data := make([]byte, info.Size())
	if _, err := src.ReadAt(data, 0); err != nil {
		return fmt.Errorf("read %s: %v", e.Src, err)
	}
	dst, err := os.OpenFile(dir+"/"+e.Name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o400)
	if err != nil {
		return err
	}
	defer dst.Close()
	if _, err := dst.Write(data); err != nil {
		return err
	}
	return dst.Chown(uid, gid)
}

// closeOnExecAbove2 marks every descriptor above 2 but keep close-on-exec.
func closeOnExecAbove2(keep int) error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list open descriptors: %v", err)
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 && fd != keep {
			syscall.CloseOnExec(fd)
		}
	}
	return nil
}

// seccompFD: a pipe holding the filter, its read end inheritable by bwrap.
func seccompFD(filter []byte) (int, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], 0); err != nil {
		return -1, err
	}
	defer syscall.Close(p[1])
	if n, err := syscall.Write(p[1], filter); err != nil || n != len(filter) {
		syscall.Close(p[0])
		return -1, fmt.Errorf("write: %v", err)
	}
	return p[0], nil
}

// O_PATH (not in package syscall): a handle that names a file without opening it.
const oPath = 0x200000
