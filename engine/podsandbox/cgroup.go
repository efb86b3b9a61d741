package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Per-exec budgets: every pod command runs in a cgroup of its own, created
// under the broker's own cgroup (read from /proc/self/cgroup) and removed when
// the command ends. Both cgroup v1 (one hierarchy per controller, as on the
// machines this project is developed on) and v2 (unified) are detected at
// runtime from /proc/self/mountinfo.
//
// Limits come from the environment the pod runtime's caller gives kwokctl
// (EmbeddedProvider's podBudget, src/server/cluster/kwokctl.ts):
//
//	IRLAB_POD_PIDS_MAX    tasks per exec            (default 256)
//	IRLAB_POD_MEMORY_MAX  bytes per exec, no swap   (default 256 MiB)
//	IRLAB_POD_CPU_WEIGHT  cgroup v2 cpu.weight 1-10000 (default 50, half of
//	                      an ordinary process group's; v1: cpu.shares 512)

type budget struct {
	pids, memory, cpuWeight int64
}

func budgetFromEnv() (budget, error) {
	b := budget{pids: 256, memory: 256 << 20, cpuWeight: 50}
	for _, v := range []struct {
		name     string
		dst      *int64
		min, max int64
	}{
		{"IRLAB_POD_PIDS_MAX", &b.pids, 8, 1 << 22},
		{"IRLAB_POD_MEMORY_MAX", &b.memory, 16 << 20, 1 << 50},
		{"IRLAB_POD_CPU_WEIGHT", &b.cpuWeight, 1, 10000},
	} {
		s := os.Getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < v.min || n > v.max {
			return b, fmt.Errorf("%s=%q: expected an integer from %d to %d", v.name, s, v.min, v.max)
		}
		*v.dst = n
	}
	return b, nil
}

// cgroups: the cgroup of all of one cluster's execs, irlab-pods-<broker pid>
// (four exec budgets together: execs that outlive their kubectl, which kwok
// allows, cannot add up without bound), and below it one cgroup per exec.
type cgroups struct {
	budget  budget
	cluster *execCgroup
	seq     atomic.Int64
	warn    sync.Once
}

// execCgroup: one group's directories (v2: one; v1: one per controller, same name).
type execCgroup struct {
	mu          sync.Mutex // kill (on disconnect) may run while remove does
	dirs        []string
	controllers []string // per dir: "pids", "memory", "cpu", or "" for v2
}

// newCgroups finds this process's cgroups and makes the cluster's group under
// them. An error means exec budgets are off; the caller says so once.
func newCgroups(b budget) (*cgroups, error) {
	if os.Getuid() != 0 {
		return nil, errors.New("not running as root")
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	parent := &execCgroup{}
	if m, ok := mounts["cgroup2"]; ok && hasControllers(m.dir, "pids", "memory") {
		dir, err := v2Parent(m.dir, filepath.Join(m.dir, relativeTo(own[""], m.root)))
		if err != nil {
			return nil, err
		}
		parent.dirs, parent.controllers = []string{dir}, []string{""}
	} else {
		for _, controller := range []string{"pids", "memory", "cpu"} {
			m, mounted := mounts[controller]
			path, listed := own[controller]
			if !mounted || !listed {
				if controller == "cpu" {
					continue
				}
				return nil, fmt.Errorf("no cgroup v1 %s hierarchy and no cgroup v2 with pids and memory", controller)
			}
			parent.dirs = append(parent.dirs, filepath.Join(m.dir, relativeTo(path, m.root)))
			parent.controllers = append(parent.controllers, controller)
		}
	}
	removeStale(parent)
	total := budget{pids: 4 * b.pids, memory: 4 * b.memory, cpuWeight: b.cpuWeight}
	cluster, err := makeGroup(parent, fmt.Sprintf("irlab-pods-%d", os.Getpid()), total)
	if err != nil {
		return nil, err
	}
	if parent.controllers[0] == "" {
		// v2: hand the controllers on to the exec cgroups (this group holds no process).
		for _, c := range []string{"pids", "memory", "cpu"} {
			if err := os.WriteFile(filepath.Join(cluster.dirs[0], "cgroup.subtree_control"), []byte("+"+c), 0); err != nil && c != "cpu" {
				cluster.remove()
				return nil, fmt.Errorf("enable %s in %s: %v", c, cluster.dirs[0], err)
			}
		}
	}
	return &cgroups{budget: b, cluster: cluster}, nil
}

// removeStale removes the groups of brokers that died without cleaning up
// (SIGKILL); a live process with that pid keeps its group.
func removeStale(parent *execCgroup) {
	entries, _ := os.ReadDir(parent.dirs[0])
	for _, e := range entries {
		pid, ok := strings.CutPrefix(e.Name(), "irlab-pods-")
		if n, err := strconv.Atoi(pid); !ok || err != nil || n <= 0 || syscall.Kill(n, 0) != syscall.ESRCH {
			continue
		}
		g := &execCgroup{controllers: parent.controllers}
		for _, d := range parent.dirs {
			g.dirs = append(g.dirs, filepath.Join(d, e.Name()))
		}
		g.removeTree()
	}
}

type cgroupMount struct{ dir, root string }

// cgroupMounts: controller name (v1) or "cgroup2" → where it is mounted.
func cgroupMounts() (map[string]cgroupMount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]cgroupMount{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(scanner.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 3 {
			continue
		}
		m := cgroupMount{dir: fields[4], root: fields[3]}
		switch tail[0] {
		case "cgroup2":
			if _, seen := out["cgroup2"]; !seen {
				out["cgroup2"] = m
			}
		case "cgroup":
			for _, opt := range strings.Split(tail[2], ",") {
				if _, seen := out[opt]; !seen && (opt == "pids" || opt == "memory" || opt == "cpu") {
					out[opt] = m
				}
			}
		}
	}
	return out, scanner.Err()
}

// ownCgroups: controller → this process's cgroup path; "" is the v2 path.
func ownCgroups() (map[string]string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, nil
}

func relativeTo(path, mountRoot string) string {
	if rel, ok := strings.CutPrefix(path, mountRoot); ok && mountRoot != "/" {
		return rel
	}
	return path
}

func hasControllers(dir string, names ...string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return false
	}
	have := strings.Fields(string(data))
	for _, n := range names {
		if !contains(have, n) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// v2Parent: our own cgroup when it can hand pids and memory to children. v2
// forbids that while it holds processes itself (it usually does: the server,
// kwokctl and every component share it), so the nearest ancestor that already
// delegates them is used instead; the limits are per exec either way.
func v2Parent(mountDir, own string) (string, error) {
	enabled := true
	for _, c := range []string{"pids", "memory", "cpu"} {
		if !subtreeHas(own, c) && os.WriteFile(filepath.Join(own, "cgroup.subtree_control"), []byte("+"+c), 0) != nil && c != "cpu" {
			enabled = false
		}
	}
	if enabled {
		return own, nil
	}
	// Ancestors: only what they already delegate; we change nothing there.
	for dir := filepath.Dir(own); strings.HasPrefix(dir, mountDir); dir = filepath.Dir(dir) {
		if subtreeHas(dir, "pids") && subtreeHas(dir, "memory") {
			fmt.Fprintf(os.Stderr, "irlab-pod-sandbox: cgroup %s holds processes, so it cannot delegate controllers; pod exec cgroups go under %s\n", own, dir)
			return dir, nil
		}
		if dir == mountDir {
			break
		}
	}
	return "", fmt.Errorf("no cgroup at or above %s delegates pids and memory", own)
}

func subtreeHas(dir, controller string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	return err == nil && contains(strings.Fields(string(data)), controller)
}

// create makes one exec's cgroup with its limits.
func (c *cgroups) create() (*execCgroup, error) {
	return makeGroup(c.cluster, "exec-"+strconv.FormatInt(c.seq.Add(1), 10), c.budget)
}

// close kills whatever still runs in the cluster's execs and removes every group.
func (c *cgroups) close() {
	if c != nil {
		c.cluster.removeTree()
	}
}

// makeGroup creates name under each of parent's directories with limits b. A
// failure leaves nothing behind.
func makeGroup(parent *execCgroup, name string, b budget) (*execCgroup, error) {
	g := &execCgroup{}
	for i, controller := range parent.controllers {
		dir := filepath.Join(parent.dirs[i], name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			g.remove()
			return nil, err
		}
		g.dirs, g.controllers = append(g.dirs, dir), append(g.controllers, controller)
		var err error
		switch controller {
		case "":
			err = writeAll(dir, map[string]string{"pids.max": itoa(b.pids), "memory.max": itoa(b.memory)})
			// Optional: swap accounting and the cpu controller may be absent.
			_ = os.WriteFile(filepath.Join(dir, "memory.swap.max"), []byte("0"), 0)
			_ = os.WriteFile(filepath.Join(dir, "cpu.weight"), []byte(itoa(b.cpuWeight)), 0)
		case "pids":
			err = writeAll(dir, map[string]string{"pids.max": itoa(b.pids)})
		case "memory":
			err = writeAll(dir, map[string]string{"memory.limit_in_bytes": itoa(b.memory)})
			// memsw (memory + swap) exists only with swap accounting; it must not be below the limit.
			_ = os.WriteFile(filepath.Join(dir, "memory.memsw.limit_in_bytes"), []byte(itoa(b.memory)), 0)
		case "cpu":
			err = writeAll(dir, map[string]string{"cpu.shares": itoa(max(2, b.cpuWeight*1024/100))})
		}
		if err != nil {
			g.remove()
			return nil, err
		}
	}
	return g, nil
}

// removeTree removes g's exec-* children, then g.
func (g *execCgroup) removeTree() {
	entries, _ := os.ReadDir(g.dirs[0])
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "exec-") {
			child := &execCgroup{controllers: g.controllers}
			for _, d := range g.dirs {
				child.dirs = append(child.dirs, filepath.Join(d, e.Name()))
			}
			child.remove()
		}
	}
	g.remove()
}

func writeAll(dir string, values map[string]string) error {
	for file, v := range values {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0); err != nil {
			return fmt.Errorf("set %s/%s: %v", dir, file, err)
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// kill: SIGKILL to every process still in the cgroup (the command's pid
// namespace normally died with it; a process that left the session has not).
func (e *execCgroup) kill() {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.killLocked()
}

func (e *execCgroup) killLocked() {
	if len(e.dirs) == 0 {
		return
	}
	if e.controllers[0] == "" && os.WriteFile(filepath.Join(e.dirs[0], "cgroup.kill"), []byte("1"), 0) == nil {
		return
	}
	data, _ := os.ReadFile(filepath.Join(e.dirs[0], "cgroup.procs"))
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// remove kills what is left and removes the directories, retrying while the
// kernel finishes tearing processes down (up to about three seconds).
func (e *execCgroup) remove() {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for attempt := 0; ; attempt++ {
		e.killLocked()
		var left, controllers []string
		for i, dir := range e.dirs {
			if err := syscall.Rmdir(dir); err != nil && !errors.Is(err, syscall.ENOENT) {
				left, controllers = append(left, dir), append(controllers, e.controllers[i])
			}
		}
		e.dirs, e.controllers = left, controllers
		if len(left) == 0 {
			return
		}
		if attempt == 100 {
			fmt.Fprintf(os.Stderr, "irlab-pod-sandbox: cannot remove cgroups %v (still busy); remove them by hand\n", left)
			return
		}
		time.Sleep(time.Duration(5+attempt) * time.Millisecond / 2)
	}
}
