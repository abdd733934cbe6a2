package pipeline

import (
	"syscall"
	"time"
)

// threadID is the calling thread's: in a flush, the Fluent Bit worker's
// (a cgo call runs on the thread that made it).
func threadID() int { return syscall.Gettid() }

// processCPU is the process's user and system time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
