package main

import (
	"encoding/binary"
	"runtime"
)

// The classic-BPF seccomp filter every pod command (and kwok) runs under,
// handed to bubblewrap (`--seccomp FD`). It is the learner shell's filter
// (src/server/terminal/seccomp.ts), instruction for instruction: a pod is as
// untrusted as a shell. The integration test pod-sandbox.test.ts compares the
// two byte for byte (`irlab-pod-sandbox --seccomp-filter`), so they cannot
// drift apart. x86_64 only; elsewhere seccompFilter returns nil and the pod
// runs without it (namespaces, no capabilities and NoNewPrivs still hold).

const (
	auditArchX86_64 = 0xc000003e
	x32SyscallBit   = 0x40000000

	bpfLdWAbs = 0x20
	bpfJeqK   = 0x15
	bpfJgeK   = 0x35
	bpfJsetK  = 0x45
	bpfRetK   = 0x06

	seccompRetAllow       = 0x7fff0000
	seccompRetKillProcess = 0x80000000
	errnoEPERM            = 1
	errnoENOSYS           = 38

	offsetNr   = 0
	offsetArch = 4

	sysIoctl  = 16
	sysClone  = 56
	sysClone3 = 435
	tiocsti   = 0x5412
	tioclinux = 0x541c
	// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
	cloneNewAny = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
)

// deniedSyscalls: in the same order as DENIED_SYSCALLS_X86_64 in seccomp.ts
// (the order is part of the bytes compared by the test).
var deniedSyscalls = []uint32{
	101, // ptrace
	310, // process_vm_readv
	311, // process_vm_writev
	312, // kcmp
	103, // syslog
	163, // acct
	164, // settimeofday
	165, // mount
	166, // umount2
	167, // swapon
	168, // swapoff
	169, // reboot
	172, // iopl
	173, // ioperm
	175, // init_module
	176, // delete_module
	179, // quotactl
	227, // clock_settime
	246, // kexec_load
	248, // add_key
	249, // request_key
	250, // keyctl
	272, // unshare
	298, // perf_event_open
	303, // name_to_handle_at
	304, // open_by_handle_at
	308, // setns
	313, // finit_module
	320, // kexec_file_load
	321, // bpf
	323, // userfaultfd
	425, // io_uring_setup
	426, // io_uring_enter
	427, // io_uring_register
	428, // open_tree
	429, // move_mount
	430, // fsopen
	431, // fsconfig
	432, // fsmount
	433, // fspick
	442, // mount_setattr
}

type bpfInstruction struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

func retErrno(errno uint32) uint32 { return 0x00050000 | errno }

func offsetArgLow(index uint32) uint32 { return 16 + 8*index }

func seccompProgram() []bpfInstruction {
	p := []bpfInstruction{
		{bpfLdWAbs, 0, 0, offsetArch},
		{bpfJeqK, 1, 0, auditArchX86_64},
		{bpfRetK, 0, 0, seccompRetKillProcess},
		{bpfLdWAbs, 0, 0, offsetNr},
		// The x32 ABI reuses x86_64 numbers with a high bit set: refuse it outright.
		{bpfJgeK, 0, 1, x32SyscallBit},
		{bpfRetK, 0, 0, retErrno(errnoEPERM)},
		// clone3 passes flags in memory BPF cannot read: "not implemented" makes libc use clone.
		{bpfJeqK, 0, 1, sysClone3},
		{bpfRetK, 0, 0, retErrno(errnoENOSYS)},
		// clone: allowed for fork/threads, refused when it asks for any new namespace.
		{bpfJeqK, 0, 4, sysClone},
		{bpfLdWAbs, 0, 0, offsetArgLow(0)},
		{bpfJsetK, 0, 1, cloneNewAny},
		{bpfRetK, 0, 0, retErrno(errnoEPERM)},
		{bpfRetK, 0, 0, seccompRetAllow},
		// ioctl: everything but injecting input into a terminal.
		{bpfJeqK, 0, 5, sysIoctl},
		{bpfLdWAbs, 0, 0, offsetArgLow(1)},
		{bpfJeqK, 1, 0, tiocsti},
		{bpfJeqK, 0, 1, tioclinux},
		{bpfRetK, 0, 0, retErrno(errnoEPERM)},
		{bpfRetK, 0, 0, seccompRetAllow},
	}
	for _, nr := range deniedSyscalls {
		p = append(p, bpfInstruction{bpfJeqK, 0, 1, nr}, bpfInstruction{bpfRetK, 0, 0, retErrno(errnoEPERM)})
	}
	return append(p, bpfInstruction{bpfRetK, 0, 0, seccompRetAllow})
}

// seccompFilter: struct sock_filter[] as bytes (little-endian), or nil off x86_64.
func seccompFilter() []byte {
	if runtime.GOARCH != "amd64" {
		return nil
	}
	program := seccompProgram()
	out := make([]byte, 8*len(program))
	for i, ins := range program {
		binary.LittleEndian.PutUint16(out[8*i:], ins.code)
		out[8*i+2] = ins.jt
		out[8*i+3] = ins.jf
		binary.LittleEndian.PutUint32(out[8*i+4:], ins.k)
	}
	return out
}
