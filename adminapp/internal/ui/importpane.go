package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/adminapp/internal/bulk"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// importPane imports employees or clinicians from a CSV file: a dry run
// checks every row and lists the problems by row before anything is
// created; then the valid rows are created with a progress bar that can be
// cancelled, ending with a summary and a CSV of what failed.
type importPane struct {
	s *usersSection
	u *UI

	path     *widget.Label
	chooseB  *widget.Button
	summary  status
	problems *widget.List
	start    *widget.Button
	cancelB  *widget.Button
	saveFail *widget.Button
	progress *widget.ProgressBar
	root     fyne.CanvasObject

	file     bulk.File
	found    []bulk.Problem // the dry run's problems
	result   *bulk.Result
	stop     context.CancelFunc // ends the dry run or the import
	checking bool               // the dry run is running
	running  bool               // the import is running
}

func newImportPane(s *usersSection) *importPane {
	p := &importPane{s: s, u: s.u, path: widget.NewLabel("No file chosen."), summary: newStatus(), progress: widget.NewProgressBar()}
	p.path.Truncation = fyne.TextTruncateEllipsis
	p.chooseB = widget.NewButton("Choose CSV file…", p.choose)
	p.problems = widget.NewList(
		func() int { return len(p.found) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(p.found[i].String()) })
	p.start = widget.NewButton("Import", p.run)
	p.start.Importance = widget.HighImportance
	p.start.Disable()
	p.cancelB = widget.NewButton("Cancel", p.cancel)
	p.saveFail = widget.NewButton("Save failed rows as CSV…", p.saveFailed)
	p.saveFail.Hide()
	p.progress.Hide()
	help := widget.NewLabel("Columns: " + strings.Join(bulk.Columns(s.kind.typ), ", ") +
		". The first row names the columns. The provider checks every row (a dry run) before anything is created; each " +
		s.kind.singular + " created gets an invitation by email.")
	help.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(
		heading("Import "+strings.ToLower(s.kind.title)+" from CSV"),
		help,
		container.NewBorder(nil, nil, nil, p.chooseB, p.path),
		p.summary.Label,
	)
	bottom := container.NewVBox(p.progress, container.NewHBox(p.start, p.cancelB, p.saveFail))
	p.root = padded(container.NewBorder(top, bottom, nil, nil, p.problems))
	return p
}

func (p *importPane) choose() {
	if p.running {
		return
	}
	p.u.d.Files.Open(p.load)
}

// load reads path and runs the dry run.
func (p *importPane) load(path string) {
	p.path.SetText(filepath.Base(path))
	p.found, p.result = nil, nil
	p.problems.Refresh()
	p.start.Disable()
	p.saveFail.Hide()
	p.chooseB.Disable()
	p.summary.info("Checking every row…")
	p.progress.SetValue(0)
	p.progress.Show()
	api := p.s.api
	checkCtx, stop := context.WithCancel(p.u.sessionCtx)
	p.stop, p.checking = stop, true
	type dry struct {
		file     bulk.File
		problems []bulk.Problem
	}
	run(p.u, func(ctx context.Context) (dry, error) {
		f, err := os.Open(path)
		if err != nil {
			return dry{}, err
		}
		defer f.Close()
		file, err := bulk.Read(f, p.s.kind.typ)
		if err != nil {
			return dry{}, err
		}
		// Not ctx, whose timeout bounds one request: the dry run sends one
		// per row, and ends with the session or Cancel.
		probs, err := bulk.DryRun(checkCtx, file, func(ctx context.Context, r bulk.Row) error {
			pr, roles := importRequest(r)
			return api.dryRun(ctx, pr, roles)
		}, func(done, total int) {
			if done%10 == 0 || done == total {
				p.u.d.Do(func() { p.progress.SetValue(float64(done) / float64(total)) })
			}
		})
		if err != nil {
			return dry{}, err
		}
		return dry{file, probs}, nil
	}, func(r dry, err error) {
		stop()
		p.stop, p.checking = nil, false
		p.chooseB.Enable()
		p.progress.Hide()
		var pe *os.PathError
		switch {
		case errors.Is(err, bulk.ErrFile):
			p.summary.fail(err.Error())
			return
		case errors.As(err, &pe):
			p.summary.fail("Cannot read " + pe.Path + " (" + pe.Err.Error() + ").")
			return
		case err != nil:
			p.summary.fail("The check did not finish: " + p.u.message(err))
			return
		}
		p.file, p.found = r.file, r.problems
		p.problems.Refresh()
		bad := len(bulk.Lines(r.problems))
		good := len(r.file.Rows) - bad
		switch {
		case bad == 0:
			p.summary.success(fmt.Sprintf("All %d rows are ready to import.", good))
		default:
			p.summary.fail(fmt.Sprintf("%d of %d rows have problems (listed below) and will not be imported; %d are ready.", bad, len(r.file.Rows), good))
		}
		p.start.SetText(fmt.Sprintf("Import %d %ss", good, p.s.kind.singular))
		if good > 0 {
			p.start.Enable()
		}
		if bad > 0 {
			p.saveFail.Show()
		}
	})
}

// run creates the rows without problems.
func (p *importPane) run() {
	if p.running || p.start.Disabled() {
		return
	}
	bad := bulk.Lines(p.found)
	var rows []bulk.Row
	for _, r := range p.file.Rows {
		if !bad[r.Line] {
			rows = append(rows, r)
		}
	}
	ctx, cancel := context.WithCancel(p.u.sessionCtx)
	p.stop, p.running = cancel, true
	p.start.Disable()
	p.chooseB.Disable()
	p.saveFail.Hide()
	p.progress.SetValue(0)
	p.progress.Show()
	p.summary.info(fmt.Sprintf("Creating %d %ss…", len(rows), p.s.kind.singular))
	api := p.s.api
	go func() {
		res := bulk.Run(ctx, rows, func(ctx context.Context, r bulk.Row) error {
			pr, roles := importRequest(r)
			_, err := api.create(ctx, pr, roles)
			return err
		}, func(done, total int) {
			p.u.d.Do(func() {
				p.progress.SetValue(float64(done) / float64(total))
				p.summary.info(fmt.Sprintf("Created %d of %d…", done, total))
			})
		})
		cancel()
		p.u.d.Do(func() { p.finished(res) })
	}()
}

// importRequest is a row's create request: the dry run sends the very
// request the import then sends.
func importRequest(r bulk.Row) (profile, []adminapi.Role) {
	return profile{GivenName: r.GivenName, FamilyName: r.FamilyName, Email: r.Email, Phone: r.Phone,
		Discipline: strings.ToUpper(r.Discipline), JobTitle: r.JobTitle, Department: r.Department}, r.Roles
}

func (p *importPane) finished(res bulk.Result) {
	p.running, p.stop = false, nil
	p.result = &res
	p.chooseB.Enable()
	p.progress.Hide()
	msg := fmt.Sprintf("Created %d %ss; an invitation was sent to each.", res.Created, p.s.kind.singular)
	if n := len(res.Failed); n > 0 {
		msg += fmt.Sprintf(" %d refused by the server.", n)
	}
	if n := len(res.NotRun); n > 0 {
		msg += fmt.Sprintf(" %d not imported (cancelled).", n)
	}
	if n := len(p.found); n > 0 {
		msg += fmt.Sprintf(" %d skipped by the check.", len(bulk.Lines(p.found)))
	}
	if len(res.Failed) > 0 || len(res.NotRun) > 0 {
		p.summary.fail(msg)
	} else {
		p.summary.success(msg)
	}
	// The problems list now shows every row that was not created.
	for _, f := range res.Failed {
		p.found = append(p.found, bulk.Problem{Line: f.Row.Line, Message: f.Message})
	}
	for _, r := range res.NotRun {
		p.found = append(p.found, bulk.Problem{Line: r.Line, Message: "not imported (cancelled)"})
	}
	bulk.SortProblems(p.found)
	p.problems.Refresh()
	if len(p.found) > 0 {
		p.saveFail.Show()
	}
	p.s.reload()
}

// cancel stops the dry run or a running import (rows already sent
// finish), or closes the pane.
func (p *importPane) cancel() {
	if p.running || p.checking {
		if p.stop != nil {
			p.stop()
		}
		p.summary.info("Cancelling…")
		return
	}
	p.s.closeRight()
}

// failures are the rows not created, with why.
func (p *importPane) failures() []bulk.Failure {
	byLine := map[int]bulk.Row{}
	for _, r := range p.file.Rows {
		byLine[r.Line] = r
	}
	msgs := map[int][]string{}
	var order []int
	for _, pr := range p.found {
		if _, ok := msgs[pr.Line]; !ok {
			order = append(order, pr.Line)
		}
		m := pr.Message
		if pr.Field != "" {
			m = pr.Field + " " + m
		}
		msgs[pr.Line] = append(msgs[pr.Line], m)
	}
	var out []bulk.Failure
	for _, l := range order {
		out = append(out, bulk.Failure{Row: byLine[l], Message: strings.Join(msgs[l], "; ")})
	}
	return out
}

func (p *importPane) saveFailed() {
	fails := p.failures()
	p.u.d.Files.Save("failed-"+strings.ToLower(p.s.kind.title)+".csv", func(path string) {
		err := writeFile(path, func(f *os.File) error { return bulk.WriteFailed(f, p.file, fails) })
		if err != nil {
			p.summary.fail("Could not save: " + p.u.fileMessage(err))
			return
		}
		p.summary.success(fmt.Sprintf("Saved %d rows that were not imported to %s.", len(fails), path))
	})
}
