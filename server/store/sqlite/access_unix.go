//go:build unix

package sqlite

import "syscall"

// wOK is access(2)'s W_OK, the same on every Unix.
const wOK = 2

// canWrite asks the kernel whether this process may write path: it says
// "permission denied" or "read-only file system" without opening the file
// (closing a descriptor of a database file would drop SQLite's POSIX locks
// on it held elsewhere in this process).
func canWrite(path string) error {
	return syscall.Access(path, wOK)
}
