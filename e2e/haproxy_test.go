package e2e

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The scale-out tests put two gopherd instances behind Debian's HAProxy,
// one sent PROXY v2 headers and one v1, round-robin with health checks,
// and send clients from a loopback address of the test's choosing.

const (
	// clientIP is the address the test's clients connect from; HAProxy
	// passes it on in the PROXY header.
	clientIP  = "127.0.0.77"
	fileBody  = "through the load balancer\n"
	haRequest = "/f.txt"
)

// haproxy is a running HAProxy.
type haproxy struct {
	t     *testing.T
	cmd   *exec.Cmd
	addr  string
	sock  string
	log   *syncBuffer
	done  chan struct{}
	pid   int
	names []string
}

// startHAProxy balances over backends (host:port), the first sent
// send-proxy-v2 and the second send-proxy.
func startHAProxy(t *testing.T, backends []string) *haproxy {
	t.Helper()
	bin := needTool(t, "haproxy")
	dir := t.TempDir()
	h := &haproxy{t: t, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), sock: filepath.Join(dir, "stats.sock"),
		log: &syncBuffer{}, done: make(chan struct{}), names: []string{"v2", "v1"}}
	cfg := fmt.Sprintf(`global
  stats socket %s mode 600 level admin
  maxconn 512

defaults
  mode tcp
  timeout connect 2s
  timeout client 20s
  timeout server 20s
  retries 3
  option redispatch

frontend gopher
  bind %s
  default_backend gopherd

backend gopherd
  balance roundrobin
  server v2 %s send-proxy-v2 check inter 100ms fall 2 rise 1
  server v1 %s send-proxy check inter 100ms fall 2 rise 1
`, h.sock, h.addr, backends[0], backends[1])
	file := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	h.cmd = exec.Command(bin, "-db", "-f", file)
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h.pid = h.cmd.Process.Pid
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(h.pid, syscall.SIGKILL)
		<-h.done
	})
	// Ready when both servers are up.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := h.status()
		if st["v2"] == "UP" && st["v1"] == "UP" {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("HAProxy's servers not up: %v\n%s", st, h.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// status asks the stats socket for each server's status ("UP", "DOWN" …).
func (h *haproxy) status() map[string]string {
	out := map[string]string{}
	c, err := net.DialTimeout("unix", h.sock, time.Second)
	if err != nil {
		return out
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		return out
	}
	sc := bufio.NewScanner(c)
	statusCol := -1
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if strings.HasPrefix(sc.Text(), "# ") {
			for i, name := range f {
				if name == "status" {
					statusCol = i
				}
			}
			continue
		}
		if statusCol >= 0 && len(f) > statusCol && f[0] == "gopherd" {
			out[f[1]] = strings.Fields(f[statusCol] + " ")[0]
		}
	}
	return out
}

// proxiedConfig is an instance's config: a listener taking PROXY headers
// from HAProxy (127.0.0.1) only.
func proxiedConfig(t *testing.T, root string, hideIPs bool) map[string]any {
	cfg := baseConfig(t, root)
	l := cfg["listen"].(map[string]any)
	l["proxy-protocol"] = map[string]any{"trusted": []string{"127.0.0.1/32"}}
	cfg["log"] = map[string]any{"level": "info", "hide-ips": hideIPs}
	return cfg
}

// fetchVia makes one request through HAProxy from clientIP, over TLS when
// tc is set, and reports what went wrong, or "".
func fetchVia(addr string, tc *tls.Config) string {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(clientIP)}}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return "dial: " + err.Error()
	}
	c := raw
	if tc != nil {
		c = tls.Client(raw, tc)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, haRequest+"\r\n"); err != nil {
		return "write: " + err.Error()
	}
	b, err := io.ReadAll(c)
	switch {
	case err != nil:
		return fmt.Sprintf("read: %v after %d bytes", err, len(b))
	case string(b) != fileBody:
		return fmt.Sprintf("got %q", b)
	}
	return ""
}

// served counts the access log lines of haRequest.
func served(d *daemon) int {
	return strings.Count(d.log.String(), `"selector": "`+haRequest+`"`)
}

// twoInstances starts two gopherd instances serving the same tree and
// HAProxy in front of them.
func twoInstances(t *testing.T, hideIPs bool, tlsOn bool) (*haproxy, [2]*daemon, *tls.Config) {
	t.Helper()
	needTool(t, "haproxy")
	root := t.TempDir()
	writeTree(t, root, map[string]string{"f.txt": fileBody})
	var tc *tls.Config
	var ds [2]*daemon
	var certFile, keyFile string
	if tlsOn {
		certFile, keyFile = makeCert(t, t.TempDir(), "localhost")
		tc = trusting(t, certFile)
	}
	for i := range ds {
		cfg := proxiedConfig(t, root, hideIPs)
		if tlsOn {
			cfg["tls"] = map[string]any{"certificate": certFile, "key": keyFile}
		}
		ds[i] = startConfig(t, cfg)
	}
	return startHAProxy(t, []string{ds[0].addr, ds[1].addr}), ds, tc
}

func TestHAProxyScaleOut(t *testing.T) {
	slow(t)
	for _, tt := range []struct {
		name    string
		hideIPs bool
		tls     bool
	}{
		{"plain", false, false},
		{"hide-ips", true, false},
		{"tls", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, ds, tc := twoInstances(t, tt.hideIPs, tt.tls)
			const requests = 200
			var failed atomic.Int64
			var wg sync.WaitGroup
			jobs := make(chan int, requests)
			for i := range requests {
				jobs <- i
			}
			close(jobs)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range jobs {
						if why := fetchVia(h.addr, tc); why != "" {
							if failed.Add(1) <= 3 {
								t.Errorf("request through HAProxy: %s", why)
							}
						}
					}
				}()
			}
			wg.Wait()
			if n := failed.Load(); n > 0 {
				t.Fatalf("%d of %d requests failed", n, requests)
			}
			waitForLog(t, func() bool { return served(ds[0])+served(ds[1]) == requests })
			a, b := served(ds[0]), served(ds[1])
			t.Logf("served: %d by the v2 instance, %d by the v1 instance", a, b)
			if a == 0 || b == 0 {
				t.Errorf("round robin: %d and %d served", a, b)
			}
			for i, d := range ds {
				log := d.log.String()
				has := strings.Contains(log, `"client": "`+clientIP+`"`)
				switch {
				case tt.hideIPs && strings.Contains(log, clientIP):
					t.Errorf("instance %d logged the client's address with hide-ips", i)
				case !tt.hideIPs && !has:
					t.Errorf("instance %d never logged the client's address %s:\n%s", i, clientIP, tail(log))
				}
				if strings.Contains(log, `"client": "127.0.0.1"`) {
					t.Errorf("instance %d logged HAProxy's address as a client's", i)
				}
				if tt.tls && !strings.Contains(log, `"tls": true`) {
					t.Errorf("instance %d served no TLS request", i)
				}
			}
		})
	}
}

// TestHAProxyDrain stops one instance with SIGTERM while requests flow:
// none is lost once HAProxy has marked it down, and the other serves on.
func TestHAProxyDrain(t *testing.T) {
	slow(t)
	h, ds, _ := twoInstances(t, false, false)
	var (
		mu             sync.Mutex
		total, beforeF int
		afterDown      int
		afterFailures  []string
		down           atomic.Bool
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				wasDown := down.Load()
				why := fetchVia(h.addr, nil)
				mu.Lock()
				total++
				switch {
				case wasDown && why != "":
					afterFailures = append(afterFailures, why)
				case wasDown:
					afterDown++
				case why != "":
					beforeF++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	ds[0].signal(syscall.SIGTERM)
	deadline := time.Now().Add(20 * time.Second)
	for h.status()["v2"] == "UP" {
		if time.Now().After(deadline) {
			t.Fatalf("HAProxy never marked the stopped instance down:\n%s", h.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	down.Store(true)
	// Requests for a while after the mark.
	for {
		mu.Lock()
		n := afterDown + len(afterFailures)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if code := ds[0].wait(30 * time.Second); code != 0 {
		t.Errorf("the stopped instance exited %d:\n%s", code, tail(ds[0].log.String()))
	}
	t.Logf("%d requests; %d failed before HAProxy marked the instance down; %d served after", total, beforeF, afterDown)
	if len(afterFailures) > 0 {
		t.Errorf("%d requests lost after HAProxy marked the instance down, first: %s", len(afterFailures), afterFailures[0])
	}
	if afterDown < 200 {
		t.Errorf("only %d requests after the mark", afterDown)
	}
	if !strings.Contains(ds[0].log.String(), "shutting down") {
		t.Errorf("no shutdown line:\n%s", tail(ds[0].log.String()))
	}
}

func waitForLog(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the access log")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}
