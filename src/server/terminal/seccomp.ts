/**
 * A small classic-BPF seccomp filter for the learner's shell, handed to bubblewrap (`--seccomp`).
 * Namespaces already hide the server's processes; this is the second wall: even a process that
 * found one could not ptrace it or read its memory, and the shell cannot build new namespaces,
 * load kernel code, or push keystrokes into a terminal (TIOCSTI).
 *
 * Written by hand (no libseccomp on the machine, none needed for ~40 instructions). x86_64 only:
 * on other architectures `buildSeccompFilter` returns null and the sandbox runs without it
 * (docs/terminal.md says so).
 */

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (errno: number) => 0x00050000 | errno;
const EPERM = 1;
const ENOSYS = 38;

// struct seccomp_data offsets: nr, arch, instruction pointer, then six u64 args (little-endian).
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const offsetArgLow = (index: number) => 16 + 8 * index;

/** Syscalls the shell never needs and an attacker would (x86_64 numbers). */
export const DENIED_SYSCALLS_X86_64: Record<string, number> = {
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  syslog: 103,
  acct: 163,
  settimeofday: 164,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  clock_settime: 227,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  setns: 308,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
};

const SYS_IOCTL = 16;
const SYS_CLONE = 56;
const SYS_CLONE3 = 435;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME */
const CLONE_NEW_ANY = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;

type Instruction = [code: number, jt: number, jf: number, k: number];

function program(): Instruction[] {
  const p: Instruction[] = [
    [LD_W_ABS, 0, 0, OFFSET_ARCH],
    [JEQ_K, 1, 0, AUDIT_ARCH_X86_64],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    [LD_W_ABS, 0, 0, OFFSET_NR],
    // The x32 ABI reuses x86_64 numbers with a high bit set: refuse it outright.
    [JGE_K, 0, 1, X32_SYSCALL_BIT],
    [RET_K, 0, 0, retErrno(EPERM)],
    // clone3 passes flags in memory BPF cannot read: say "not implemented" so libc uses clone.
    [JEQ_K, 0, 1, SYS_CLONE3],
    [RET_K, 0, 0, retErrno(ENOSYS)],
    // clone: allowed for fork/threads, refused when it asks for any new namespace.
    [JEQ_K, 0, 4, SYS_CLONE],
    [LD_W_ABS, 0, 0, offsetArgLow(0)],
    [JSET_K, 0, 1, CLONE_NEW_ANY],
    [RET_K, 0, 0, retErrno(EPERM)],
    [RET_K, 0, 0, RET_ALLOW],
    // ioctl: everything but injecting input into a terminal.
    [JEQ_K, 0, 5, SYS_IOCTL],
    [LD_W_ABS, 0, 0, offsetArgLow(1)],
    [JEQ_K, 1, 0, TIOCSTI],
    [JEQ_K, 0, 1, TIOCLINUX],
    [RET_K, 0, 0, retErrno(EPERM)],
    [RET_K, 0, 0, RET_ALLOW],
  ];
  for (const nr of Object.values(DENIED_SYSCALLS_X86_64)) {
    p.push([JEQ_K, 0, 1, nr], [RET_K, 0, 0, retErrno(EPERM)]);
  }
  p.push([RET_K, 0, 0, RET_ALLOW]);
  return p;
}

/** The filter as bytes (struct sock_filter[], native little-endian), or null off x86_64. */
export function buildSeccompFilter(arch: string = process.arch): Uint8Array | null {
  if (arch !== 'x64') return null;
  const instructions = program();
  const bytes = new Uint8Array(instructions.length * 8);
  const view = new DataView(bytes.buffer);
  instructions.forEach(([code, jt, jf, k], i) => {
    view.setUint16(i * 8, code, true);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return bytes;
}
