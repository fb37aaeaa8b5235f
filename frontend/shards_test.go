package frontend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/shards"
	"github.com/envkit/envkit/internal/conformance"
)

const testRecipesURL = "http://127.0.0.1:8000/test-recipes"

// rawRecipes are test-recipes' noarch records as the channel publishes
// them, by package name and filename.
func rawRecipes(t *testing.T) (map[string]map[string]shards.Raw, []byte) {
	t.Helper()
	dt, err := os.ReadFile(conformance.Dir(t, "channels", "test-recipes", "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rd struct {
		Packages      map[string]shards.Raw `json:"packages"`
		PackagesConda map[string]shards.Raw `json:"packages.conda"`
	}
	dec := json.NewDecoder(bytes.NewReader(dt))
	dec.UseNumber()
	if err := dec.Decode(&rd); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]shards.Raw{}
	for _, part := range []map[string]shards.Raw{rd.Packages, rd.PackagesConda} {
		for fn, rec := range part {
			name := rec["name"].(string)
			if byName[name] == nil {
				byName[name] = map[string]shards.Raw{}
			}
			byName[name][fn] = rec
		}
	}
	return byName, dt
}

// shardedRecipes serves test-recipes' noarch subdir as CEP 16 shards only
// (no repodata.json), shards under shards/.
func shardedRecipes(t *testing.T, g *fakeGateway) {
	t.Helper()
	byName, _ := rawRecipes(t)
	ix := &shards.Index{Info: shards.Info{Subdir: "noarch", BaseURL: "./", ShardsBaseURL: "./shards/"}, Shards: map[string]shards.Sum{}}
	g.http = map[string][]byte{}
	for name, recs := range byName {
		data, sum, err := shards.EncodeShard(recs, nil)
		if err != nil {
			t.Fatal(err)
		}
		ix.Shards[name] = sum
		g.http[testRecipesURL+"/noarch/shards/"+sum.File()] = data
	}
	g.http[testRecipesURL+"/noarch/"+shards.IndexFile] = shards.EncodeIndex(ix)
}

// Without a lock, a sharded channel is read shard by shard: only the
// names the solve reaches, each checked against its sha256, and the
// build is the one the lock gives.
func TestBuildSolvesFromShards(t *testing.T) {
	g := condaGateway(t, condaEnv, nil, nil)
	shardedRecipes(t, g)
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	var shardsRead []string
	for _, u := range g.fetched {
		if strings.Contains(u, "/shards/") {
			shardsRead = append(shardsRead, u)
		}
		if strings.HasSuffix(u, "repodata.json") || strings.HasSuffix(u, "repodata.json.zst") {
			t.Errorf("a sharded channel's repodata was read: %s", u)
		}
	}
	byName, _ := rawRecipes(t)
	// post_link-c, dependent and what they depend on (dependency,
	// post_link-b), not the channel's other names.
	if len(shardsRead) >= len(byName) || len(shardsRead) < 4 {
		t.Errorf("read %d of %d shards: %v", len(shardsRead), len(byName), shardsRead)
	}

	locked := condaGateway(t, condaEnv, lockFor(t, condaEnv, testRecipes(t, lockedRecipes...)), nil)
	if _, err := Build(context.Background(), locked); err != nil {
		t.Fatal(err)
	}
	a, b := g.solves[0], locked.solves[0]
	if len(a.Def) != len(b.Def) {
		t.Fatalf("%d ops from shards, %d from the lock", len(a.Def), len(b.Def))
	}
	for i := range a.Def {
		if !bytes.Equal(a.Def[i], b.Def[i]) {
			t.Errorf("op %d differs between the sharded solve and the lock", i)
		}
	}
}

// A shard whose bytes are not the index's sha256 fails the build naming
// the channel and the package.
func TestBuildShardChecksumMismatch(t *testing.T) {
	g := condaGateway(t, condaEnv, nil, nil)
	shardedRecipes(t, g)
	for u := range g.http {
		if strings.Contains(u, "/shards/") {
			g.http[u] = append([]byte(nil), g.http[u][:len(g.http[u])-1]...)
		}
	}
	_, err := Build(context.Background(), g)
	if err == nil || !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("error %v, want a digest mismatch", err)
	}
}

// repodata.json.zst is read where the channel has it, and a file larger
// than one gateway message (16 MiB) is read in ranges.
func TestBuildReadsLargeRepodataZst(t *testing.T) {
	byName, _ := rawRecipes(t)
	packages := map[string]shards.Raw{}
	for _, recs := range byName {
		for fn, rec := range recs {
			packages[fn] = rec
		}
	}
	// Padding records no solve reaches, to pass the message limit.
	for i := 0; i < 60000; i++ {
		packages[fmt.Sprintf("padding-%d-1.0-0.tar.bz2", i)] = shards.Raw{"name": fmt.Sprintf("padding-%d", i), "version": "1.0", "build": "0",
			"build_number": 0, "depends": []string{}, "subdir": "noarch", "sha256": strings.Repeat("ab", 32), "md5": strings.Repeat("cd", 16), "size": 1000,
			"license": strings.Repeat("padding ", 30)}
	}
	dt, err := json.Marshal(map[string]any{"info": map[string]string{"subdir": "noarch"}, "packages": packages})
	if err != nil {
		t.Fatal(err)
	}
	if len(dt) <= gatewayMessageLimit {
		t.Fatalf("repodata.json is %d bytes, want more than one gateway message", len(dt))
	}
	for _, zst := range []bool{true, false} {
		g := condaGateway(t, condaEnv, nil, nil)
		if zst {
			g.http = map[string][]byte{testRecipesURL + "/noarch/repodata.json.zst": shards.Compress(dt)}
		} else {
			g.http = map[string][]byte{testRecipesURL + "/noarch/repodata.json": dt}
		}
		if _, err := Build(context.Background(), g); err != nil {
			t.Fatalf("zst %v: %v", zst, err)
		}
		if len(g.solves) != 1 {
			t.Errorf("zst %v: %d build solves", zst, len(g.solves))
		}
	}
}
