package pkg

import (
	"fmt"
	"io"
	"path/filepath"
)

// maxIndexJSON bounds info/index.json (a few hundred bytes in real
// packages).
const maxIndexJSON = 16 << 20

// IndexJSON returns the archive file's info/index.json, the record a
// channel indexer publishes. The whole archive is streamed (payload
// discarded) through Walk's checks, so a damaged or refused package
// fails here, when its channel is indexed, rather than at install.
func IndexJSON(file string) ([]byte, error) {
	var index []byte
	err := WalkFile(file, All, func(e *Entry, r io.Reader) error {
		if e.Type != File {
			return nil
		}
		if e.Path != "info/index.json" {
			_, err := io.Copy(io.Discard, r)
			return err
		}
		data, err := io.ReadAll(io.LimitReader(r, maxIndexJSON+1))
		if err != nil {
			return err
		}
		if len(data) > maxIndexJSON {
			return fmt.Errorf("%s: info/index.json is over %d bytes", filepath.Base(file), maxIndexJSON)
		}
		index = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	if index == nil {
		return nil, fmt.Errorf("%s: no info/index.json", filepath.Base(file))
	}
	return index, nil
}
