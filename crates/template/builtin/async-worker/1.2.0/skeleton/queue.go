package main

// At-least-once consumption of a Redis list.
//
// Producers LPUSH messages onto QUEUE. The worker moves each one atomically (BLMOVE) into its
// own processing list, QUEUE:processing:<consumer>, handles it, and only then removes it, so
// a crash never loses a message: on start the worker puts back what its previous run left,
// and every worker puts back the processing lists of consumers whose heartbeat key
// (QUEUE:consumer:<consumer>, refreshed every 10 s, expiring after 30 s) is gone. A message
// that fails processing maxAttempts times, or cannot be decoded, moves to the dead-letter
// list QUEUE:dead as it was received (replay it with LMOVE QUEUE:dead QUEUE RIGHT LEFT).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

const (
	maxAttempts      = 3
	heartbeatTTL     = 30 * time.Second
	heartbeatEvery   = 10 * time.Second
	blockFor         = 2 * time.Second
	reconnectBackoff = 2 * time.Second
)

// message is what producers push: JSON with the time it was queued (Unix seconds, for the
// freshness SLO), an optional W3C traceparent that continues the producer's trace, and a payload.
type message struct {
	EnqueuedAt  float64         `json:"enqueued_at"`
	Traceparent string          `json:"traceparent,omitempty"`
	Payload     json.RawMessage `json:"payload"`
}

type consumer struct {
	cfg        redisConfig
	queue      string
	id         string
	metrics    *workerMetrics
	tracer     *tracer
	logger     *slog.Logger
	connected  atomic.Bool
	handle     func(context.Context, message) error
	retryDelay time.Duration
}

func (c *consumer) processing() string         { return c.queue + ":processing:" + c.id }
func (c *consumer) dead() string               { return c.queue + ":dead" }
func (c *consumer) heartbeat(id string) string { return c.queue + ":consumer:" + id }

func consumerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "worker"
	}
	return host + "-" + strconv.Itoa(os.Getpid())
}

// run consumes until ctx ends, reconnecting after errors. The message in hand when ctx ends
// is finished first.
func (c *consumer) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := c.session(ctx)
		c.connected.Store(false)
		c.metrics.setConnected(false)
		if ctx.Err() != nil {
			return
		}
		c.logger.Error("queue unavailable; reconnecting", "err", err, "redis", c.cfg.addr, "retry_in", reconnectBackoff.String())
		select {
		case <-ctx.Done():
		case <-time.After(reconnectBackoff):
		}
	}
}

func (c *consumer) session(ctx context.Context) error {
	conn, err := dialRedis(ctx, c.cfg)
	if err != nil {
		return err
	}
	defer conn.close()
	if err := c.beat(conn); err != nil {
		return err
	}
	c.connected.Store(true)
	c.metrics.setConnected(true)
	c.logger.Info("consuming", "queue", c.queue, "redis", c.cfg.addr, "consumer", c.id)
	// What a previous run of this consumer left in flight goes back first.
	if err := c.requeue(conn, c.processing()); err != nil {
		return err
	}
	if err := c.reap(conn); err != nil {
		return err
	}
	lastBeat := time.Now()
	for ctx.Err() == nil {
		if time.Since(lastBeat) >= heartbeatEvery {
			if err := c.beat(conn); err != nil {
				return err
			}
			if err := c.reap(conn); err != nil {
				return err
			}
			lastBeat = time.Now()
		}
		r, err := conn.do(blockFor, "BLMOVE", c.queue, c.processing(), "RIGHT", "LEFT", strconv.FormatFloat(blockFor.Seconds(), 'f', -1, 64))
		if err != nil {
			return err
		}
		if r.isNil {
			continue // nothing queued
		}
		if err := c.handleOne(conn, r.str); err != nil {
			return err
		}
	}
	return nil
}

func (c *consumer) beat(conn *redisConn) error {
	_, err := conn.do(0, "SET", c.heartbeat(c.id), "1", "EX", strconv.Itoa(int(heartbeatTTL.Seconds())))
	return err
}

// requeue moves everything in list back onto the queue, to be taken next.
func (c *consumer) requeue(conn *redisConn, list string) error {
	moved := 0
	for {
		r, err := conn.do(0, "LMOVE", list, c.queue, "LEFT", "RIGHT")
		if err != nil {
			return err
		}
		if r.isNil {
			break
		}
		moved++
	}
	if moved > 0 {
		c.logger.Warn("requeued messages left in flight", "list", list, "messages", moved)
	}
	return nil
}

// reap requeues the processing lists of consumers that stopped without finishing.
func (c *consumer) reap(conn *redisConn) error {
	prefix := c.queue + ":processing:"
	cursor := "0"
	for {
		r, err := conn.do(0, "SCAN", cursor, "MATCH", prefix+"*", "COUNT", "100")
		if err != nil {
			return err
		}
		if len(r.items) != 2 {
			return errors.New("redis: unexpected SCAN reply")
		}
		for _, key := range r.items[1].items {
			owner := key.str[len(prefix):]
			if owner == c.id {
				continue
			}
			alive, err := conn.do(0, "EXISTS", c.heartbeat(owner))
			if err != nil {
				return err
			}
			if alive.num == 0 {
				if err := c.requeue(conn, key.str); err != nil {
					return err
				}
			}
		}
		cursor = r.items[0].str
		if cursor == "0" {
			return nil
		}
	}
}

// handleOne processes one message and settles it: removed when done, dead-lettered when it
// cannot be processed. Only Redis errors are returned (the message then stays in the
// processing list and is requeued).
func (c *consumer) handleOne(conn *redisConn, raw string) error {
	start := time.Now()
	var msg message
	var failure error
	sc := spanContext{trace: newTraceID(), span: newSpanID()}
	var parent *spanContext
	decodeErr := json.Unmarshal([]byte(raw), &msg)
	if decodeErr != nil {
		failure = fmt.Errorf("undecodable message: %w", decodeErr)
	} else if p, ok := parseTraceparent(msg.Traceparent); ok {
		parent = &p
		sc.trace = p.trace
	}
	sc.sampled = c.tracer.sample(sc.trace, parent)
	ctx := context.WithValue(context.Background(), spanContextKey{}, sc)
	attempts := 0
	for decodeErr == nil && attempts < maxAttempts {
		attempts++
		failure = safeHandle(ctx, c.handle, msg)
		if failure == nil {
			break
		}
		c.logger.WarnContext(ctx, "message failed", "err", failure, "attempt", attempts)
		if attempts < maxAttempts {
			c.metrics.retried()
			time.Sleep(c.retryDelay * time.Duration(attempts))
		}
	}
	result := "success"
	if failure != nil {
		result = "failure"
		if err := conn.transaction(
			[]string{"LPUSH", c.dead(), raw},
			[]string{"LREM", c.processing(), "1", raw},
		); err != nil {
			return err
		}
		c.logger.ErrorContext(ctx, "message dead-lettered", "err", failure, "dead_letter_list", c.dead(), "attempts", attempts)
	} else if _, err := conn.do(0, "LREM", c.processing(), "1", raw); err != nil {
		return err
	}
	end := time.Now()
	c.metrics.observe(result, msg.EnqueuedAt, end.Sub(start).Seconds())
	s := span{ctx: sc, name: "process " + c.queue, kind: 5, start: start, end: end, failed: failure != nil,
		attributes: []attribute{
			{"messaging.system", "redis"},
			{"messaging.destination.name", c.queue},
			{"messaging.operation.type", "process"},
		}}
	if parent != nil {
		s.parent = parent.span
	}
	c.tracer.export(s)
	return nil
}

// safeHandle runs the handler, turning a panic into an error so the message is settled.
func safeHandle(ctx context.Context, handle func(context.Context, message) error, msg message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return handle(ctx, msg)
}
