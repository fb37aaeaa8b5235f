// Package netfetch is envkit's one client for downloads: conda packages,
// repodata (and its shards), wheels, index pages, POMs and jars, over
// http(s) and file://. Every read is bounded in time (connect, response
// headers, and each read of the body) and in size, and transient failures
// are retried with backoff, so a server that never answers or never stops
// answering fails with an error instead of hanging or filling memory.
package netfetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/envkit/envkit/internal/credentials"
)

// DefaultLimit bounds a body whose size nobody states (a conda-lock v1
// entry, a wheel): above the largest packages published (about 3 GB), far
// below a filled disk.
const DefaultLimit int64 = 4 << 30

// Client fetches URLs. Its zero fields take Default's values.
type Client struct {
	// Connect bounds dialing and the TLS handshake.
	Connect time.Duration
	// Header bounds the wait for the response headers once the request
	// is sent: a server that accepts and never answers.
	Header time.Duration
	// Idle bounds each read of the body: a server that stops sending.
	Idle time.Duration
	// Attempts is how often a transient failure is tried in all;
	// Backoff is the first wait between tries, doubled at each one.
	Attempts int
	Backoff  time.Duration
	// Ceiling bounds a body whose size nobody states; DefaultLimit when 0.
	Ceiling int64

	mu  sync.Mutex
	key string // networkKey of hc
	hc  *http.Client
}

// Default is the client of callers that give none, with conda's bounds
// (connect about 10 s, a minute per read, 3 tries): large files on a slow
// link take long, but never a minute without a byte.
var Default = &Client{
	Connect:  10 * time.Second,
	Header:   time.Minute,
	Idle:     time.Minute,
	Attempts: 3,
	Backoff:  500 * time.Millisecond,
}

// Or returns c, or Default when c is nil.
func Or(c *Client) *Client {
	if c == nil {
		return Default
	}
	return c
}

func (c *Client) setting(own, def time.Duration) time.Duration {
	if own > 0 {
		return own
	}
	return def
}

// http returns the client's HTTP client for the network settings of the
// environment (networkKey), made anew when they changed.
func (c *Client) http() (*http.Client, error) {
	key := networkKey()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hc != nil && c.key == key {
		return c.hc, nil
	}
	t, err := c.transport()
	if err != nil {
		return nil, err
	}
	if c.hc != nil {
		c.hc.CloseIdleConnections()
	}
	c.hc, c.key = &http.Client{Transport: t}, key
	return c.hc, nil
}

// Request is one GET.
type Request struct {
	URL string
	// Header holds extra request headers (Range, If-None-Match).
	Header http.Header
	// Limit is the most bytes the body may have: the size a record
	// states, else the client's Ceiling when 0.
	Limit int64
}

// Response is what a read function gets: a 2xx or 304 answer (or a
// file), its body bounded by the request's limit and the idle timeout.
type Response struct {
	// URL is the URL answered, after redirects.
	URL        *url.URL
	StatusCode int
	Header     http.Header
	Body       io.Reader
}

// StatusError is an HTTP answer other than 2xx and 304, after retries.
type StatusError struct {
	// URL is the URL asked for, without its credentials.
	URL    string
	Code   int
	Status string
	// Host is the server's host; Authorized tells whether credentials
	// were sent to it, From where envkit found them ("" when the caller
	// set the header).
	Host       string
	Authorized bool
	From       string
}

func (e *StatusError) Error() string {
	msg := "GET " + e.URL + ": " + e.Status
	if e.Code == http.StatusProxyAuthRequired {
		return msg + ": the proxy wants credentials: give them in the variable (HTTP_PROXY=http://USER:PASSWORD@HOST:PORT)"
	}
	if e.Code != http.StatusUnauthorized && e.Code != http.StatusForbidden {
		return msg
	}
	if e.Authorized {
		from := "the credentials sent"
		if e.From != "" {
			from = "the credentials from " + e.From
		}
		return msg + ": " + e.Host + " refused " + from + ": check them (docs/private-channels.md lists where envkit looks, in order)"
	}
	m := machine(e.Host)
	return msg + ": " + e.Host + " needs credentials: add \"machine " + m + " login USER password TOKEN\" to ~/.netrc (or the file $NETRC names), " +
		"a token to the JSON file $RATTLER_AUTH_FILE names ({\"" + m + "\": {\"BearerToken\": \"TOKEN\"}}), " +
		"or give user:token in the index URL (PIP_INDEX_URL=https://user:token@" + e.Host + "/…) or a channel's /t/<token>/ URL"
}

// TooLargeError is a body longer than its request's limit.
type TooLargeError struct {
	URL   string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: more than the %d bytes allowed: refused", e.URL, e.Limit)
}

// machine is host without its port, as netrc names it.
func machine(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// idleError is a body that stopped arriving; it reaches callers inside a
// *url.Error, as the transport's own timeouts do.
type idleError struct{ d time.Duration }

func (e idleError) Error() string { return fmt.Sprintf("no data for %s: timed out", e.d) }
func (e idleError) Timeout() bool { return true }

// NotFound reports whether err is a 404 or a missing file.
func NotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound || errors.Is(err, fs.ErrNotExist)
}

// Unreachable reports whether err says the server could not be used (no
// connection, a timeout, a server error after retries), the case where
// callers suggest a mirror.
func Unreachable(err error) bool {
	var ue *url.Error
	var se *StatusError
	return errors.As(err, &ue) || errors.As(err, &se) && retryStatus(se.Code)
}

// Fetch GETs req.URL (http, https or file) and calls read with the
// answer. Transient failures, in the request or while read consumes the
// body (network errors, timeouts, 408, 429, 5xx), are retried with
// backoff: read is then called again from the start and must begin
// afresh. Other statuses are a *StatusError, a body over the limit a
// *TooLargeError. A file:// URL must name a regular file.
//
// Credentials are found by host (credentials.ForURL): those req.URL
// carries are kept for later requests to its host, sent as basic
// authentication, a bearer token or in the path, and never appear in an
// error or in Response.URL. Proxies and CA certificates come from the
// environment (network.go); a refused certificate is a
// *CertificateError, not retried.
func (c *Client) Fetch(ctx context.Context, req Request, read func(*Response) error) error {
	u, err := url.Parse(req.URL)
	if err != nil {
		return fmt.Errorf("%s: %w", req.URL, err)
	}
	limit := req.Limit
	if limit <= 0 {
		limit = c.Ceiling
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	switch u.Scheme {
	case "file":
		return readFile(u, limit, read)
	case "http", "https":
		if req.URL = credentials.Remember(req.URL); req.URL == "" {
			return fmt.Errorf("%s://%s: a URL whose credentials cannot be told apart from its path: refused", u.Scheme, u.Host)
		}
	default:
		return fmt.Errorf("%s: unsupported URL scheme %q (want http, https or file)", req.URL, u.Scheme)
	}
	delay := c.setting(c.Backoff, Default.Backoff)
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = Default.Attempts
	}
	for attempt := 1; ; attempt++ {
		err := c.try(ctx, req, limit, read)
		if err == nil || attempt >= attempts || !transient(ctx, err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// try makes one request. The body is read under a context of its own,
// cancelled when a read waits longer than the idle timeout.
func (c *Client) try(ctx context.Context, req Request, limit int64, read func(*Response) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	auth, err := credentials.ForURL(req.URL)
	if err != nil {
		return err
	}
	hc, err := c.http()
	if err != nil {
		return err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, auth.URL, nil)
	if err != nil {
		return fmt.Errorf("%s: cannot make a request of it", req.URL)
	}
	for k, v := range req.Header {
		hreq.Header[k] = v
	}
	from := ""
	if auth.Header != "" && hreq.Header.Get("Authorization") == "" {
		hreq.Header.Set("Authorization", auth.Header)
		from = auth.From
	}
	if !strings.EqualFold(auth.URL, req.URL) {
		// A URL other than req.URL but for the host's case holds a token.
		from = auth.From
	}
	resp, err := hc.Do(hreq)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = req.URL // never the target, which may hold a token
		}
		if pe := proxyError(err); pe != err {
			return fmt.Errorf("GET %s: %w", req.URL, pe)
		}
		return certificateError(err, req.URL, hreq.URL.Host)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotModified {
		return &StatusError{URL: req.URL, Code: resp.StatusCode, Status: resp.Status, Host: hreq.URL.Host,
			Authorized: from != "" || hreq.Header.Get("Authorization") != "", From: from}
	}
	if resp.ContentLength > limit {
		return &TooLargeError{URL: req.URL, Limit: limit}
	}
	body := &idleReader{r: resp.Body, url: req.URL, idle: c.setting(c.Idle, Default.Idle), cancel: cancel}
	defer body.stop()
	return read(&Response{
		URL:        credentials.StripURL(resp.Request.URL),
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       &limitReader{r: body, url: req.URL, limit: limit},
	})
}

// transient reports whether err may pass on a new try: not when the
// caller's context is done, nor for a size or status a retry cannot change.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return retryStatus(se.Code)
	}
	var pe *ProxyError
	if errors.As(err, &pe) {
		return retryStatus(pe.Code)
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

func retryStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// idleReader fails a read that waits longer than idle, by cancelling the
// request's context; its errors are *url.Error, transient.
type idleReader struct {
	r      io.Reader
	url    string
	idle   time.Duration
	cancel context.CancelFunc
	timer  *time.Timer
	fired  atomic.Bool
}

func (b *idleReader) Read(p []byte) (int, error) {
	if b.timer == nil {
		b.timer = time.AfterFunc(b.idle, func() { b.fired.Store(true); b.cancel() })
	} else {
		b.timer.Reset(b.idle)
	}
	n, err := b.r.Read(p)
	b.timer.Stop()
	switch {
	case err == nil || err == io.EOF:
		return n, err
	case b.fired.Load():
		err = idleError{b.idle}
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		err = &url.Error{Op: "GET", URL: b.url, Err: err}
	}
	return n, err
}

func (b *idleReader) stop() {
	if b.timer != nil {
		b.timer.Stop()
	}
}

// limitReader fails once more than limit bytes arrive.
type limitReader struct {
	r        io.Reader
	url      string
	limit, n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.limit {
		return 0, &TooLargeError{URL: l.url, Limit: l.limit}
	}
	// One byte past the limit tells a body at it from a longer one; room
	// is compared before adding it, so a limit of MaxInt64 cannot wrap.
	if room := l.limit - l.n; room < int64(len(p)) {
		p = p[:room+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		return n - 1, &TooLargeError{URL: l.url, Limit: l.limit}
	}
	return n, err
}

// readFile serves a file:// URL as a 200, bounded as a body is.
func readFile(u *url.URL, limit int64, read func(*Response) error) error {
	f, err := os.Open(u.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", u)
	}
	if st.Size() > limit {
		return &TooLargeError{URL: u.String(), Limit: limit}
	}
	return read(&Response{URL: u, StatusCode: http.StatusOK, Header: http.Header{},
		Body: &limitReader{r: f, url: u.String(), limit: limit}})
}

// Get returns the body of req.URL, at most req.Limit bytes, read with
// ReadAll.
func (c *Client) Get(ctx context.Context, req Request) ([]byte, error) {
	var data []byte
	err := c.Fetch(ctx, req, func(r *Response) error {
		var err error
		data, err = ReadAll(r.Body)
		return err
	})
	return data, err
}

// spoolAt is the size from which ReadAll spools a body to disk.
const spoolAt = 1 << 20

// ReadAll reads a body into memory kept at the size that actually
// arrived. A body over 1 MiB is spooled to a temporary file first:
// io.ReadAll would double its slice as it grows, and a body that never
// ends would run out of memory before it reached its limit. A smaller one
// grows in memory up to that 1 MiB and is then copied to its size: a
// 1 MiB buffer for each body cost a sharded channel's thousands of
// few-kB shards a GB of allocation, and kept a MiB per cached shard.
func ReadAll(r io.Reader) ([]byte, error) {
	head, err := io.ReadAll(io.LimitReader(r, spoolAt))
	if err != nil {
		return nil, err
	}
	n := len(head)
	if n < spoolAt {
		return bytes.Clone(head), nil
	}
	f, err := os.CreateTemp("", "envkit-body-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rest, err := io.Copy(f, r)
	if err != nil {
		return nil, err
	}
	data := make([]byte, int64(n)+rest)
	copy(data, head)
	if _, err := f.ReadAt(data[n:], 0); err != nil && err != io.EOF {
		return nil, err
	}
	return data, nil
}

// Download streams the body of req.URL into f through the hashes, as
// Save does at every try. It returns the number of bytes written.
func (c *Client) Download(ctx context.Context, req Request, f *os.File, hashes ...hash.Hash) (int64, error) {
	var n int64
	err := c.Fetch(ctx, req, func(r *Response) error {
		var err error
		n, err = Save(r, f, hashes...)
		return err
	})
	return n, err
}

// Save writes r's body into f, which it truncates first, and through the
// hashes, which it resets first, so that a retry starts afresh.
func Save(r *Response, f *os.File, hashes ...hash.Hash) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	w := []io.Writer{f}
	for _, h := range hashes {
		h.Reset()
		w = append(w, h)
	}
	return io.Copy(io.MultiWriter(w...), r.Body)
}
