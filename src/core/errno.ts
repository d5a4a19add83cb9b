// Linux errno numbers and their names. They are the kernel's ABI (asm-generic), the same on
// x86-64 and arm64 under glibc and musl alike; the static host's build checks them against
// the C headers. Pure: the text of an error (strerror) comes from the host's libc.

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ELOOP: 40,
} as const;

/** `ENOENT`, or `errno 99` for one not in the table. */
export function errnoName(code: number): string {
  for (const name of Object.keys(ERRNO) as (keyof typeof ERRNO)[]) {
    if (ERRNO[name] === code) return name;
  }
  return `errno ${code}`;
}
