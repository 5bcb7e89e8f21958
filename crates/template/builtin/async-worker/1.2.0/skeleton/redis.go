package main

// A small Redis client (RESP2 over TCP or TLS) with the standard library only: the few
// commands the queue needs, AUTH with a password (and an ACL user), a deadline on every
// command and limits on what a reply may allocate.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// redisConfig comes from REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS
// (true: TLS, the server name is REDIS_HOST) and REDIS_CA_FILE (a PEM bundle to trust instead
// of the system's).
type redisConfig struct {
	addr, host         string
	username, password string
	tls                bool
	caFile             string
}

func redisConfigFromEnv() (redisConfig, error) {
	host := getenv("REDIS_HOST", "127.0.0.1")
	cfg := redisConfig{
		addr:     net.JoinHostPort(host, getenv("REDIS_PORT", "6379")),
		host:     host,
		username: os.Getenv("REDIS_USERNAME"),
		password: os.Getenv("REDIS_PASSWORD"),
		caFile:   os.Getenv("REDIS_CA_FILE"),
	}
	switch v := strings.ToLower(os.Getenv("REDIS_TLS")); v {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		cfg.tls = true
	default:
		return cfg, fmt.Errorf("REDIS_TLS=%q is not true or false", v)
	}
	if cfg.username != "" && cfg.password == "" {
		return cfg, errors.New("REDIS_USERNAME is set but REDIS_PASSWORD is not")
	}
	return cfg, nil
}

// redisError is an error reply from the server; the connection stays usable.
type redisError string

func (e redisError) Error() string { return "redis: " + string(e) }

// reply is one RESP value: a string (simple or bulk), an integer, an array, or nil.
type reply struct {
	str   string
	num   int64
	items []reply
	isNil bool
	err   error // an error reply inside an array (EXEC's results)
}

const (
	maxBulk  = 64 << 20 // a message larger than this is refused
	maxItems = 1 << 16
)

type redisConn struct {
	conn    net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	timeout time.Duration
}

// dialRedis connects, authenticates and checks the connection with PING.
func dialRedis(ctx context.Context, cfg redisConfig) (*redisConn, error) {
	dialer := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	conn, err := dialer.DialContext(ctx, "tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	if cfg.tls {
		tc := &tls.Config{ServerName: cfg.host, MinVersion: tls.VersionTLS12}
		if cfg.caFile != "" {
			pem, err := os.ReadFile(cfg.caFile)
			if err != nil {
				conn.Close()
				return nil, fmt.Errorf("REDIS_CA_FILE: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				conn.Close()
				return nil, fmt.Errorf("REDIS_CA_FILE %s holds no PEM certificate", cfg.caFile)
			}
		}
		tlsConn := tls.Client(conn, tc)
		_ = tlsConn.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", cfg.addr, err)
		}
		conn = tlsConn
	}
	c := &redisConn{conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn), timeout: 5 * time.Second}
	if cfg.password != "" {
		args := []string{"AUTH", cfg.password}
		if cfg.username != "" {
			args = []string{"AUTH", cfg.username, cfg.password}
		}
		if _, err := c.do(0, args...); err != nil {
			c.close()
			return nil, fmt.Errorf("authentication refused (check REDIS_USERNAME and REDIS_PASSWORD): %w", err)
		}
	}
	if _, err := c.do(0, "PING"); err != nil {
		c.close()
		var re redisError
		if errors.As(err, &re) && strings.HasPrefix(string(re), "NOAUTH") {
			return nil, fmt.Errorf("the server needs a password: set REDIS_PASSWORD: %w", err)
		}
		return nil, err
	}
	return c, nil
}

func (c *redisConn) close() { _ = c.conn.Close() }

// do sends one command and reads its reply; block is how long the server may hold the reply
// back (blocking commands), on top of the usual timeout.
func (c *redisConn) do(block time.Duration, args ...string) (reply, error) {
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout + block)); err != nil {
		return reply{}, err
	}
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := c.w.Flush(); err != nil {
		return reply{}, err
	}
	return readReply(c.r, 0)
}

// transaction sends commands wrapped in MULTI/EXEC, so they apply together or not at all.
func (c *redisConn) transaction(commands ...[]string) error {
	all := append([][]string{{"MULTI"}}, commands...)
	all = append(all, []string{"EXEC"})
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	for _, args := range all {
		fmt.Fprintf(c.w, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	var firstErr error
	for range all {
		r, err := readReply(c.r, 0)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if r.isNil && firstErr == nil {
			firstErr = errors.New("redis: transaction aborted")
		}
		for _, item := range r.items {
			if item.err != nil && firstErr == nil {
				firstErr = item.err
			}
		}
	}
	return firstErr
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("redis: malformed reply line %q", line)
	}
	return line[:len(line)-2], nil
}

// readReply reads one RESP2 value (nested arrays up to a small depth).
func readReply(r *bufio.Reader, depth int) (reply, error) {
	if depth > 4 {
		return reply{}, errors.New("redis: reply nested too deeply")
	}
	line, err := readLine(r)
	if err != nil {
		return reply{}, err
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return reply{str: body}, nil
	case '-':
		return reply{}, redisError(body)
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return reply{}, fmt.Errorf("redis: bad integer %q", body)
		}
		return reply{num: n}, nil
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n > maxBulk {
			return reply{}, fmt.Errorf("redis: bulk string of %q bytes refused", body)
		}
		if n < 0 {
			return reply{isNil: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return reply{}, err
		}
		return reply{str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n > maxItems {
			return reply{}, fmt.Errorf("redis: array of %q items refused", body)
		}
		if n < 0 {
			return reply{isNil: true}, nil
		}
		items := make([]reply, 0, n)
		for i := 0; i < n; i++ {
			item, err := readReply(r, depth+1)
			var re redisError
			if errors.As(err, &re) {
				item, err = reply{err: re}, nil
			}
			if err != nil {
				return reply{}, err
			}
			items = append(items, item)
		}
		return reply{items: items}, nil
	}
	return reply{}, fmt.Errorf("redis: unexpected reply %q", line)
}
