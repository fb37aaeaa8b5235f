package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/gateway"
	"github.com/envkit/envkit/internal/conda/relock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
	"github.com/envkit/envkit/internal/conda/solve"
	"github.com/envkit/envkit/internal/conda/virtual"
	"github.com/envkit/envkit/internal/netfetch"
)

func init() { commands = append(commands, newSolveCmd) }

// defaultPlatform is the subdir solved for when none is given: envkit
// builds Linux images.
const defaultPlatform = buildplan.DefaultSubdir

func newSolveCmd() *cobra.Command {
	var (
		channels []string
		platform string
		asJSON   bool
		verbose  bool
	)
	cmd := &cobra.Command{
		Use:   "solve [--channel NAME_OR_URL]... [--platform SUBDIR] [--json] SPEC...",
		Short: "Solve conda MatchSpecs against channels and print the records to install",
		Long: `solve finds the conda records to install for the given MatchSpecs: the
newest versions that satisfy every dependency and constraint, taken from the
channels in priority order (strict channel priority). Channels are names
(conda-forge, defaults), http(s):// URLs or file:///abs/dir; the default is
conda-forge. When no solution exists it explains why and exits 1.

On a terminal the solution is a table; otherwise one "name version build
channel" line per package, sorted by name, for scripts; --json gives every
field.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: expected at least one SPEC", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, specs []string) error {
			if len(channels) == 0 {
				channels = []string{channel.Default}
			}
			var report io.Writer
			if verbose {
				report = cmd.ErrOrStderr()
			}
			cfg, ix, err := loadIndex(cmd.Context(), channels, platform, specs, report)
			if err != nil {
				return err
			}
			recs, _, err := solve.Solve(ix, specs, solve.Options{Platform: platform})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				return writeSolutionJSON(out, recs)
			case isTerminal(out):
				return writeSolutionTable(out, cfg, recs)
			}
			return writeSolutionLines(out, cfg, recs)
		},
	}
	cmd.Flags().StringArrayVarP(&channels, "channel", "c", nil, "channel name or URL, highest priority first (repeatable)")
	cmd.Flags().StringVar(&platform, "platform", defaultPlatform, "platform subdir to solve for")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the solution as a JSON array sorted by name")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "say on stderr how the channels were read (sharded or not, names, records, requests, bytes)")
	return cmd
}

// loadIndex resolves channel names (with ENVKIT_CHANNEL_ALIAS and
// ENVKIT_CHANNEL_MIRRORS) and reads from their platform and noarch
// subdirs the records a solve of specs can reach, cached, together with
// the platform's virtual packages.
func loadIndex(ctx context.Context, channels []string, platform string, specs []string, report io.Writer) (*channel.Config, *repodata.Index, error) {
	cfg, u, err := loadUniverse(ctx, channels, platform, specs, report)
	if err != nil {
		return nil, nil, err
	}
	return cfg, u.Index(), nil
}

// loadUniverse is loadIndex before indexing: lock re-solves index the
// same records several times with different pins (constrains, which
// reach no new name). With report, it says there how the channels were
// read.
func loadUniverse(ctx context.Context, channels []string, platform string, specs []string, report io.Writer) (*channel.Config, relock.Universe, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := channel.FromEnv(channelEnv)
	if err != nil {
		return nil, relock.Universe{}, err
	}
	chans, err := cfg.ResolveAll(bareChannels(channels), platform)
	if err != nil {
		return nil, relock.Universe{}, err
	}
	vp, err := virtual.Packages(platform, os.LookupEnv)
	if err != nil {
		return nil, relock.Universe{}, err
	}
	cache, err := fetch.DefaultCacheDir(os.Getenv)
	if err != nil {
		cache = "" // no home directory: fetch without a cache
	}
	client := &fetch.Client{CacheDir: cache}
	gw := &gateway.Gateway{Repodata: client, Shards: &shards.Fetcher{CacheDir: cache, Index: client}}
	res, err := gw.Load(ctx, gateway.Request{Channels: chans, Platform: platform, Specs: specs, Virtual: vp})
	if netfetch.Unreachable(err) {
		return nil, relock.Universe{}, fmt.Errorf("%w\n(a channel out of reach can be read from a mirror or a local copy: %s=CHANNEL=URL, see docs/channels.md)", err, channel.EnvMirrors)
	}
	if err != nil {
		return nil, relock.Universe{}, err
	}
	if report != nil {
		fmt.Fprintf(report, "envkit: channels for %s: %s\n", platform, res.Stats)
	}
	return cfg, relock.Universe{Channels: res.Channels, Records: res.Records}, nil
}

// solvedRecord is the JSON form of one chosen record: the channel's record
// as repodata holds it, with depends and constrains always present.
type solvedRecord struct {
	*repodata.Record
	Depends    []string `json:"depends"`
	Constrains []string `json:"constrains"`
}

func writeSolutionJSON(w io.Writer, recs []*repodata.Record) error {
	out := make([]solvedRecord, 0, len(recs))
	for _, r := range recs {
		out = append(out, solvedRecord{Record: r, Depends: nonNil(r.Depends), Constrains: nonNil(r.Constrains)})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // specs keep ">" and "<", as conda writes them
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// isTerminal tells whether w is a terminal, where people rather than
// scripts read the output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// channelName is the channel as envkit's output shows it.
func channelName(cfg *channel.Config, r *repodata.Record) string {
	if r.Channel == virtual.Channel {
		return r.Channel
	}
	return cfg.DisplayName(r.Channel)
}

// writeSolutionLines writes "name version build channel" per record: no
// header and no padding, so scripts can split on spaces.
func writeSolutionLines(w io.Writer, cfg *channel.Config, recs []*repodata.Record) error {
	bw := bufio.NewWriter(w)
	for _, r := range recs {
		fmt.Fprintln(bw, r.Name, r.Version, r.Build, channelName(cfg, r))
	}
	return bw.Flush()
}

func writeSolutionTable(w io.Writer, cfg *channel.Config, recs []*repodata.Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tBUILD\tCHANNEL")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Version, r.Build, channelName(cfg, r))
	}
	return tw.Flush()
}
