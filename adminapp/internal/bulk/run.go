package bulk

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cliniconnects/identity/shared/adminapi"
)

// Workers is how many rows are created at once.
const Workers = 4

// createTimeout bounds one create request.
const createTimeout = time.Minute

// Create sends one row's create request: for Run the create itself
// (which sends the invitation), for DryRun its dry run.
type Create func(ctx context.Context, r Row) error

// Failure is a row that was not created, and why.
type Failure struct {
	Row     Row
	Message string
}

// Result sums up a run.
type Result struct {
	Created int
	Failed  []Failure // refused by the server, by row
	// NotRun are the rows never sent because the run was cancelled.
	NotRun []Row
}

// Run creates rows, Workers at a time, calling progress(done, total)
// after each. Cancelling ctx stops sending rows; a request already sent
// finishes, so every row ends either created, failed or not run.
func Run(ctx context.Context, rows []Row, create Create, progress func(done, total int)) Result {
	var (
		mu  sync.Mutex
		res Result
	)
	res.NotRun = forEach(ctx, rows, func(ctx context.Context, r Row) {
		err := create(ctx, r)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			res.Failed = append(res.Failed, Failure{Row: r, Message: Message(err)})
		} else {
			res.Created++
		}
	}, progress)
	sort.SliceStable(res.Failed, func(i, j int) bool { return res.Failed[i].Row.Line < res.Failed[j].Row.Line })
	return res
}

// forEach calls do on each row, Workers at a time, calling
// progress(done, total) after each, and returns the rows it never sent.
// Cancelling ctx stops sending rows; a call already made finishes with a
// context that is not cancelled (bounded by createTimeout), so that it is
// never unknown whether a row sent was created.
func forEach(ctx context.Context, rows []Row, do func(ctx context.Context, r Row), progress func(done, total int)) (notRun []Row) {
	var (
		mu sync.Mutex
		n  int
		wg sync.WaitGroup
	)
	next := make(chan Row)
	for range Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
				do(rctx, r)
				cancel()
				mu.Lock()
				n++
				done := n
				mu.Unlock()
				if progress != nil {
					progress(done, len(rows))
				}
			}
		}()
	}
	sent := 0
feed:
	for _, r := range rows {
		select {
		case <-ctx.Done():
			break feed
		default:
		}
		select {
		case next <- r:
			sent++
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return rows[sent:]
}

// Message words an error of the API for a row: the server's message and
// what it said about each field.
func Message(err error) string {
	var ae *adminapi.Error
	if !errors.As(err, &ae) {
		return "the provider could not be reached"
	}
	if len(ae.Fields) == 0 {
		return ae.Message
	}
	keys := make([]string, 0, len(ae.Fields))
	for k := range ae.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+ae.Fields[k])
	}
	return strings.Join(parts, "; ")
}
