package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cliniconnects/identity/idp/internal/password"
	"github.com/cliniconnects/identity/idp/internal/storage"
	"github.com/cliniconnects/identity/idp/internal/testenv"
)

// The flood's targets (issue 8 §2): under floodConns parallel wrong-secret
// requests and as many parallel sign-ins, the provider's peak RSS stays
// under floodRSSLimit and a concurrent discovery/userinfo request answers
// within floodP99Limit at the 99th percentile.
const (
	floodConns    = 200
	floodRSSLimit = 200 << 20
	floodP99Limit = 100 * time.Millisecond
	// probePause spaces the probe's requests, so they sample the whole run.
	probePause = 5 * time.Millisecond
)

// floodResult is what one flood measured. The provider runs as its own
// process (`idp serve`), so its memory is its own: PeakRSSMiB is VmHWM
// from /proc/<pid>/status, the high-water mark of its resident set.
type floodResult struct {
	Seconds        float64 `json:"seconds"`
	SecretConns    int     `json:"secret_conns"`
	SigninConns    int     `json:"signin_conns"`
	BaselineRSSMiB float64 `json:"baseline_rss_mib"` // VmRSS once ready, before the flood
	PeakRSSMiB     float64 `json:"peak_rss_mib"`     // VmHWM after the flood
	// Answers counts the flood's answers by kind and status.
	Answers map[string]map[string]int64 `json:"answers"`
	Probe   *opResult                   `json:"probe"`
	// ProbeFailures are probe requests that did not answer 200.
	ProbeFailures int64 `json:"probe_failures"`
	// ServerCPU is the provider's user+sys CPU during the flood, in
	// seconds; LoadCPU the flooding process's.
	ServerCPU   float64 `json:"server_cpu_s"`
	LoadCPU     float64 `json:"load_cpu_s"`
	RSSLimitMiB float64 `json:"rss_limit_mib"`
	P99LimitMS  float64 `json:"p99_limit_ms"`
	Met         bool    `json:"met"`
	Note        string  `json:"note"`
}

// floodConfig is one flood: the idp binary, a fresh database and data
// directory, how long and how wide.
type floodConfig struct {
	idp      string
	dsn      string
	dataDir  string
	duration time.Duration
	conns    int
	progress io.Writer
}

// floodAccount is who the sign-ins and the probe use.
type floodAccount struct {
	rp              relyingParty // generated secret: the probe's tokens
	victim          relyingParty // argon2id secret: the wrong-secret target
	email, password string
}

// seedFlood prepares the database: migrated, a relying party with a
// generated secret, a confidential client with an argon2id secret (as an
// operator-typed secret or one from before generated secrets), and a user
// with a password, all hashed with the production defaults.
func seedFlood(ctx context.Context, dsn string) (floodAccount, error) {
	st, err := openStore(ctx, dsn, nil)
	if err != nil {
		return floodAccount{}, err
	}
	defer st.Close()
	a := floodAccount{
		rp: relyingParty{id: "flood-rp", secret: password.GenerateSecret(),
			redirectURI: "https://rp.idpbench.example/callback", scope: "openid profile offline_access"},
		victim: relyingParty{id: "flood-victim", secret: "an operator typed this secret " + randomHex(8),
			redirectURI: "https://victim.idpbench.example/callback", scope: "openid"},
		email: "flood.signin@idpbench.example", password: "correct horse battery staple " + randomHex(4),
	}
	var hasher password.Hasher // the zero Hasher: password.DefaultParams, as serve
	if err := registerClient(ctx, st, hasher, a.rp, true, storage.Client{Name: "flood relying party"}); err != nil {
		return a, err
	}
	if err := registerClient(ctx, st, hasher, a.victim, false, storage.Client{Name: "flood victim",
		GrantTypes: []string{storage.GrantClientCredentials}}); err != nil {
		return a, err
	}
	pw, err := hasher.Hash(a.password)
	if err != nil {
		return a, err
	}
	_, err = st.CreateUser(ctx, storage.User{
		Type: storage.UserTypeEmployee, GivenName: "Flood", FamilyName: "Signin", Email: a.email,
		EmailVerified: true, Status: storage.StatusActive, PasswordHash: pw,
	})
	return a, err
}

// startChild runs `idp serve` on a fresh loopback port with the default
// configuration, except that 127.0.0.1 is a trusted proxy: the flood
// names a random source in X-Forwarded-For on every request, as a
// distributed attack would, so the per-source throttles cannot help and
// the hashing bound alone has to hold.
func startChild(ctx context.Context, idp, dsn, dataDir string, env ...string) (*testenv.IDP, error) {
	return testenv.StartIDP(ctx, testenv.IDPOptions{Binary: idp, Database: dsn, DataDir: dataDir,
		Env: append([]string{"IDP_LOG_LEVEL=error", "IDP_TRUSTED_PROXIES=127.0.0.1/32"}, env...)})
}

// runFlood starts `idp serve` on a fresh database and floods it for
// cfg.duration: cfg.conns loops of wrong-secret requests (token,
// introspection, revocation in turn, against a client whose secret is an
// argon2id hash) and cfg.conns loops of sign-ins (the browser flow; half
// the right password of a real user, half unknown emails), every request
// from a random source address, sent by a separate process at nice 10.
// Meanwhile another process probes discovery and userinfo one request at
// a time. The provider's VmHWM is its peak RSS.
func runFlood(ctx context.Context, cfg floodConfig) (*floodResult, error) {
	acct, err := seedFlood(ctx, cfg.dsn)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	c, err := startChild(ctx, cfg.idp, cfg.dsn, cfg.dataDir)
	if err != nil {
		return nil, err
	}
	defer c.Stop()

	// The probe's access token: one sign-in and code exchange before the
	// flood.
	probeTransport := http.DefaultTransport.(*http.Transport).Clone()
	p := &provider{issuer: c.Issuer, rp: acct.rp, email: acct.email, password: acct.password,
		transport: probeTransport, api: &http.Client{Transport: probeTransport}}
	if err := p.getJSON(ctx, c.Issuer+"/.well-known/openid-configuration", &p.disc); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	code, err := p.login(ctx)
	if err != nil {
		return nil, fmt.Errorf("probe sign-in: %w", err)
	}
	tok, err := p.exchange(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("probe code exchange: %w", err)
	}
	baseline, err := c.Memory("VmRSS")
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(cfg.progress, "flood: %d wrong-secret and %d sign-in loops for %v…\n", cfg.conns, cfg.conns, cfg.duration)
	waitProbe, err := startHelper(ctx, probeEnv, probeConfig{Issuer: c.Issuer, Token: tok.AccessToken,
		Duration: cfg.duration, Pause: probePause})
	if err != nil {
		return nil, err
	}
	start, cpu0 := time.Now(), c.CPU()
	waitFlood, err := startHelper(ctx, flooderEnv, floodJob{Issuer: c.Issuer, Authorization: p.disc.Authorization,
		Token: p.disc.Token, Introspection: p.disc.Introspection, Account: acct.job(),
		Duration: cfg.duration, Conns: cfg.conns})
	if err != nil {
		return nil, err
	}
	var fr floodReport
	if err := waitFlood(&fr); err != nil {
		return nil, err
	}
	elapsed, serverCPU := time.Since(start), c.CPU()-cpu0
	peak, err := c.Memory("VmHWM")
	if err != nil {
		return nil, err
	}
	var rep probeReport
	if err := waitProbe(&rep); err != nil {
		return nil, err
	}
	probe := sampler{lat: rep.Latencies}
	r := &floodResult{
		Seconds: round3(elapsed.Seconds()), SecretConns: cfg.conns, SigninConns: cfg.conns,
		BaselineRSSMiB: mib(baseline), PeakRSSMiB: mib(peak), Answers: fr.Answers,
		Probe: probe.result("flood.probe", kindHTTP), ProbeFailures: rep.Failures,
		ServerCPU: round3(serverCPU.Seconds()), LoadCPU: round3(fr.CPU.Seconds()),
		RSSLimitMiB: mib(floodRSSLimit), P99LimitMS: ms(floodP99Limit),
	}
	r.Probe.Note = "discovery and userinfo, one at a time, from a separate process, during the flood"
	r.Met = peak < floodRSSLimit && r.Probe.P99MS < ms(floodP99Limit) && r.ProbeFailures == 0
	verdict := "MET"
	if !r.Met {
		verdict = "NOT MET"
	}
	r.Note = fmt.Sprintf("flood target (peak RSS < %.0f MiB, probe p99 < %.0f ms, no probe failures): %s — peak RSS %.1f MiB (%.1f MiB before), probe p99 %.2f ms over %d requests, %d failed",
		r.RSSLimitMiB, r.P99LimitMS, verdict, r.PeakRSSMiB, r.BaselineRSSMiB, r.Probe.P99MS, r.Probe.N, r.ProbeFailures)
	return r, nil
}

func mib(b int64) float64 { return round3(float64(b) / (1 << 20)) }

// floodJob is the flooding process's job.
type floodJob struct {
	Issuer        string        `json:"issuer"`
	Authorization string        `json:"authorization_endpoint"`
	Token         string        `json:"token_endpoint"`
	Introspection string        `json:"introspection_endpoint"`
	Account       accountJob    `json:"account"`
	Duration      time.Duration `json:"duration"`
	Conns         int           `json:"conns"`
}

// accountJob is a floodAccount as JSON.
type accountJob struct {
	RPID, RPRedirect, RPScope string
	VictimID                  string
	Email, Password           string
}

func (a floodAccount) job() accountJob {
	return accountJob{RPID: a.rp.id, RPRedirect: a.rp.redirectURI, RPScope: a.rp.scope,
		VictimID: a.victim.id, Email: a.email, Password: a.password}
}

// floodReport is the flooding process's answer.
type floodReport struct {
	Answers map[string]map[string]int64 `json:"answers"`
	CPU     time.Duration               `json:"cpu"` // its user+sys CPU while flooding
}

// flooderJob floods for the job's duration at nice floodNice: Conns loops
// of wrong-secret requests and Conns loops of sign-ins.
func flooderJob(b []byte) (any, error) {
	var job floodJob
	if err := json.Unmarshal(b, &job); err != nil {
		return nil, err
	}
	deprioritize()
	a := job.Account
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 2 * job.Conns
	fl := &flooder{issuer: job.Issuer,
		disc: discovery{Issuer: job.Issuer, Authorization: job.Authorization, Token: job.Token, Introspection: job.Introspection},
		acct: floodAccount{rp: relyingParty{id: a.RPID, redirectURI: a.RPRedirect, scope: a.RPScope},
			victim: relyingParty{id: a.VictimID}, email: a.Email, password: a.Password},
		client: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	ctx, cancel := context.WithTimeout(context.Background(), job.Duration)
	defer cancel()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for i := range job.Conns {
		wg.Go(func() { fl.loop(ctx, "wrong_secret", func() (int, error) { return fl.wrongSecret(ctx, i) }) })
		wg.Go(func() { fl.loop(ctx, "signin", func() (int, error) { return fl.signIn(ctx, i%2 == 0) }) })
	}
	wg.Wait()
	return floodReport{Answers: fl.answers(), CPU: cpuTime() - cpu0}, nil
}

// flooder sends the flood's requests and counts the answers.
type flooder struct {
	issuer string
	disc   discovery
	acct   floodAccount
	client *http.Client

	mu     sync.Mutex
	counts map[string]map[string]int64
}

// loop repeats send until ctx ends, counting its answers under kind.
func (f *flooder) loop(ctx context.Context, kind string, send func() (int, error)) {
	for ctx.Err() == nil {
		status, err := send()
		if ctx.Err() != nil {
			return // cut off by the end of the flood: not an answer
		}
		key := strconv.Itoa(status)
		if err != nil {
			key = "error"
		}
		f.mu.Lock()
		if f.counts == nil {
			f.counts = map[string]map[string]int64{}
		}
		if f.counts[kind] == nil {
			f.counts[kind] = map[string]int64{}
		}
		f.counts[kind][key]++
		f.mu.Unlock()
		if err != nil {
			time.Sleep(10 * time.Millisecond) // a refused connection must not spin
		}
	}
}

func (f *flooder) answers() map[string]map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

// randomSource is a random address in 10.0.0.0/8.
func randomSource() string {
	return fmt.Sprintf("10.%d.%d.%d", rand.IntN(256), rand.IntN(256), 1+rand.IntN(254))
}

// wrongSecret sends one request with a wrong secret for the argon2id
// client, to the token, introspection or revocation endpoint in turn.
func (f *flooder) wrongSecret(ctx context.Context, i int) (int, error) {
	var endpoint string
	form := url.Values{}
	switch i % 3 {
	case 0:
		endpoint = f.disc.Token
		form.Set("grant_type", "client_credentials")
	case 1:
		endpoint = f.disc.Introspection
		form.Set("token", "x")
	default:
		endpoint = f.issuer + "/revoke"
		form.Set("token", "x")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", randomSource())
	req.SetBasicAuth(url.QueryEscape(f.acct.victim.id), url.QueryEscape("wrong "+randomHex(8)))
	return f.send(req)
}

// signIn is one browser sign-in: GET /authorize, then POST /login with
// the real user's password (right) or an unknown email. Its status is the
// sign-in POST's: a redirect on success, 401 for wrong credentials, 503
// when hashing is at capacity.
func (f *flooder) signIn(ctx context.Context, right bool) (int, error) {
	src := randomSource()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: f.client.Transport, Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), f.issuer+"/") {
			return http.ErrUseLastResponse
		}
		req.Header.Set("X-Forwarded-For", src)
		return nil
	}}
	fl := newPKCE()
	rp := f.acct.rp
	q := url.Values{
		"response_type": {"code"}, "client_id": {rp.id}, "redirect_uri": {rp.redirectURI},
		"scope": {rp.scope}, "state": {fl.state}, "nonce": {fl.nonce},
		"code_challenge": {fl.challenge()}, "code_challenge_method": {"S256"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.disc.Authorization+"?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Forwarded-For", src)
	form, err := readAll(c.Do(req))
	if err != nil {
		return 0, err
	}
	m := authRequestIDRE.FindStringSubmatch(form.body)
	if m == nil {
		return form.status, nil // no form: the status says why
	}
	email, pw := f.acct.email, f.acct.password
	if !right {
		email, pw = "nobody-"+randomHex(6)+"@idpbench.example", "a wrong password "+randomHex(4)
	}
	post := url.Values{"authRequestID": {m[1]}, "email": {email}, "password": {pw}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, f.issuer+"/login", strings.NewReader(post.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", src)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	back, err := readAll(c.Do(req))
	return back.status, err
}

func (f *flooder) send(req *http.Request) (int, error) {
	r, err := readAll(f.client.Do(req))
	return r.status, err
}

func readAll(resp *http.Response, err error) (response, error) {
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}, err
}

// printFlood writes a flood's figures.
func printFlood(w io.Writer, backend string, r *floodResult) {
	fmt.Fprintf(w, "%s flood: %.1f s, %d wrong-secret + %d sign-in loops, every request from a random source\n",
		backend, r.Seconds, r.SecretConns, r.SigninConns)
	for _, kind := range []string{"wrong_secret", "signin"} {
		counts := r.Answers[kind]
		keys := make([]string, 0, len(counts))
		var total int64
		for k, n := range counts {
			keys = append(keys, k)
			total += n
		}
		slices.Sort(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s×%d", k, counts[k]))
		}
		fmt.Fprintf(w, "  %-12s %6d answers (%.0f/s): %s\n", kind, total, float64(total)/r.Seconds, strings.Join(parts, " "))
	}
	fmt.Fprintf(w, "  provider RSS: %.1f MiB before, peak (VmHWM) %.1f MiB; provider CPU %.1f s, flooding client CPU %.1f s\n",
		r.BaselineRSSMiB, r.PeakRSSMiB, r.ServerCPU, r.LoadCPU)
	fmt.Fprintf(w, "  probe (discovery/userinfo): n=%d p50 %s p95 %s p99 %s max %s, %d failed\n",
		r.Probe.N, fmtMS(r.Probe.P50MS), fmtMS(r.Probe.P95MS), fmtMS(r.Probe.P99MS), fmtMS(r.Probe.MaxMS), r.ProbeFailures)
	fmt.Fprintf(w, "  %s\n", r.Note)
}

// floodNice is the niceness of this process while it floods: an attacker
// floods from other machines, so the flooding client should not take the
// CPU the provider (and the probe process) would otherwise get.
const floodNice = 10

// deprioritize sets every thread of this process to floodNice; threads
// started later inherit it. Linux applies setpriority per thread. Errors
// are ignored: the flood then competes at equal priority, which only makes
// the figures worse.
func deprioritize() {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			if cur, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid); err == nil && 20-cur >= floodNice {
				continue // already as nice (getpriority answers 20 - nice)
			}
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, floodNice)
		}
	}
}
