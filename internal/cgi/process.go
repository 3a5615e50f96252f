package cgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stopReason says why a run was stopped before its program exited.
type stopReason int32

const (
	stopNone    stopReason = iota
	stopTimeout            // Options.Timeout passed
	stopGone               // the client went away, or the server gave up on it
	stopCap                // MaxOutputBytes reached
)

func (s stopReason) String() string {
	switch s {
	case stopTimeout:
		return "timeout"
	case stopGone:
		return "client gone"
	case stopCap:
		return "output limit"
	}
	return ""
}

// maxStderr is how much of a run's stderr is kept for the log.
const maxStderr = 4 << 10

// pipeBuffer is the read size for the program's output.
const pipeBuffer = 32 << 10

// process is one run of a program, from start to reaping. Its lifecycle:
//
//	running:  until the program exits, Timeout passes, the client goes
//	          away, or the output reaches the cap (stop)
//	stopping: after a stop, SIGTERM to the group; after KillGrace, SIGKILL
//	leftovers: once the program has exited by itself, SIGTERM to what is
//	          left of its group; the pipes are read until they close, for
//	          at most KillGrace of silence each (a descendant that escaped
//	          the group cannot hold them longer), and SIGKILL after
//	          KillGrace
//	reaped:   the program is reaped last, so that its process group ID
//	          stays reserved (a zombie's ID is not reused) while the group
//	          is being signalled
type process struct {
	cmd     *exec.Cmd
	pgid    int
	grace   time.Duration
	timeout time.Duration
	hardEnd time.Time // no pipe read waits past this

	out, errp *os.File // the read ends of stdout and stderr

	exited  chan struct{} // the program has exited (not yet reaped)
	stopc   chan stopReason
	outDone chan struct{} // the stdout reader is finished
	errDone chan struct{} // the stderr reader is finished
	done    chan struct{} // everything is finished; the result fields are set

	reason atomic.Int32 // a stopReason once one is decided

	dlMu     sync.Mutex
	draining bool // the program has exited: reads get a deadline of grace
	forced   bool // the pipes are no longer wanted: reads end at once

	// Results, written before done is closed.
	state     *os.ProcessState
	waitErr   error
	outCut    bool // stdout was still open when reading was given up
	stderr    []byte
	stderrLen int64
}

// start starts the program of sc with environment env.
func (g *Gateway) start(sc script, env []string) (*process, error) {
	file := filepath.Join(g.rootAbs, filepath.FromSlash(sc.rel))
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_, _ = outR.Close(), outW.Close()
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	cmd := &exec.Cmd{
		Path: file,
		// argv is the program's path alone: the query and search reach
		// it through the environment, never as words a shell could see.
		Args: []string{file},
		Env:  env,
		Dir:  filepath.Dir(file),
		// Stdin nil is /dev/null. The pipes' write ends are passed as
		// they are (no copying goroutines); every other descriptor of
		// gopherd is close-on-exec, so 0, 1 and 2 are all it gets.
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = cmd.Start()
	_, _ = outW.Close(), errW.Close()
	if err != nil {
		_, _ = outR.Close(), errR.Close()
		return nil, err
	}
	now := time.Now()
	p := &process{
		cmd:     cmd,
		pgid:    cmd.Process.Pid,
		grace:   g.o.KillGrace,
		timeout: g.o.Timeout,
		hardEnd: now.Add(g.o.Timeout + g.o.KillGrace),
		out:     outR,
		errp:    errR,
		exited:  make(chan struct{}),
		stopc:   make(chan stopReason, 1),
		outDone: make(chan struct{}),
		errDone: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go p.waitExit()
	go p.readStderr()
	return p, nil
}

// stop asks the supervisor to stop the run; the first reason wins.
func (p *process) stop(why stopReason) {
	select {
	case p.stopc <- why:
	default:
	}
}

// stopped returns the reason the run was stopped, or stopNone.
func (p *process) stopped() stopReason { return stopReason(p.reason.Load()) }

// signal sends sig to the program's whole process group.
func (p *process) signal(sig syscall.Signal) {
	// ESRCH (nobody left) is the good case.
	_ = syscall.Kill(-p.pgid, sig)
}

// supervise takes the run through its lifecycle (see process) and sets
// the results. ctx ends when the server gives up on the client.
func (p *process) supervise(ctx context.Context) {
	defer close(p.done)
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	why := stopNone
	select {
	case <-p.exited:
	case <-timer.C:
		why = stopTimeout
	case <-ctx.Done():
		why = stopGone
	case why = <-p.stopc:
	}
	p.reason.Store(int32(why))
	p.signal(syscall.SIGTERM)
	grace := time.NewTimer(p.grace)
	defer grace.Stop()
	killed := false
	if why != stopNone {
		select {
		case <-p.exited:
		case <-grace.C:
			p.signal(syscall.SIGKILL)
			killed = true
			<-p.exited
		}
	}
	if !killed {
		p.setDrain(false)
		p.waitPipes(grace.C)
		p.signal(syscall.SIGKILL)
	}
	if why != stopNone {
		// Output is no longer wanted: what escaped the group cannot
		// keep the readers waiting.
		p.setDrain(true)
	}
	<-p.outDone
	<-p.errDone
	_ = p.out.Close()
	_ = p.errp.Close()
	p.waitErr = p.cmd.Wait()
	p.state = p.cmd.ProcessState
	p.settle()
}

// settleWait bounds the wait for killed group members to be gone.
const settleWait = 500 * time.Millisecond

// settle waits, briefly, until no process of the group is left, so that
// a run's processes are gone when its response ends: SIGKILL is delivered
// asynchronously. Polling the group after reaping its leader is safe: as
// long as a member lives, the group's ID cannot be reused. A member that
// stays is a zombie nobody reaps (an init that does not), which holds no
// resources worth waiting for.
func (p *process) settle() {
	deadline := time.Now().Add(settleWait)
	for syscall.Kill(-p.pgid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// waitPipes waits until both readers are finished or c fires.
func (p *process) waitPipes(c <-chan time.Time) {
	select {
	case <-p.outDone:
	case <-c:
		return
	}
	select {
	case <-p.errDone:
	case <-c:
	}
}

// setDrain switches the readers to draining (the program has exited) or,
// with force, makes them end at once. Readers blocked in a read are woken
// by the new deadline.
func (p *process) setDrain(force bool) {
	p.dlMu.Lock()
	defer p.dlMu.Unlock()
	p.draining = true
	p.forced = p.forced || force
	p.deadline(p.out)
	p.deadline(p.errp)
}

// deadline sets f's read deadline by the current state; dlMu is held.
func (p *process) deadline(f *os.File) {
	switch {
	case p.forced:
		_ = f.SetReadDeadline(time.Unix(1, 0))
	case p.draining:
		d := time.Now().Add(p.grace)
		if d.After(p.hardEnd) {
			d = p.hardEnd
		}
		_ = f.SetReadDeadline(d)
	}
}

// beforeRead renews f's deadline before a read: KillGrace of silence
// counts from each read once the program has exited, so a slow client
// reading what is left in the pipe is not cut off, and a descendant that
// keeps the pipe open but quiet is.
func (p *process) beforeRead(f *os.File) {
	p.dlMu.Lock()
	defer p.dlMu.Unlock()
	p.deadline(f)
}

// readStdout reads the program's output until it ends and gives each
// chunk to sink (at most max bytes in all), while sink returns true and
// the run is not stopped. It returns how many bytes sink got.
func (p *process) readStdout(max int64, sink func([]byte) bool) (total int64) {
	defer close(p.outDone)
	buf := make([]byte, pipeBuffer)
	forward := true
	for {
		p.beforeRead(p.out)
		n, err := p.out.Read(buf)
		if n > 0 && forward && p.stopped() == stopNone {
			chunk := buf[:n]
			// Output of exactly max bytes is whole; one byte more is not.
			capped := total+int64(n) > max
			if capped {
				chunk = chunk[:max-total]
			}
			total += int64(len(chunk))
			if len(chunk) > 0 && !sink(chunk) {
				forward = false
				p.stop(stopGone)
			}
			if capped {
				forward = false
				p.stop(stopCap)
			}
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				p.outCut = true
			}
			return total
		}
	}
}

// readStderr keeps the first maxStderr bytes of the program's stderr for
// the log and counts the rest.
func (p *process) readStderr() {
	defer close(p.errDone)
	buf := make([]byte, maxStderr)
	for {
		p.beforeRead(p.errp)
		n, err := p.errp.Read(buf)
		if keep := min(n, maxStderr-len(p.stderr)); keep > 0 {
			p.stderr = append(p.stderr, buf[:keep]...)
		}
		p.stderrLen += int64(n)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded) {
				p.stderr = append(p.stderr, "\n[reading stderr failed]"...)
			}
			return
		}
	}
}
