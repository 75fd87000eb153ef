package scenarios

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func isFlowFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

type missingPath struct {
	path string
	err  error
}

func expandPaths(paths []string) ([]string, []missingPath, error) {
	var files []string
	var missing []missingPath
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			missing = append(missing, missingPath{p, fmt.Errorf("cannot read flows: %w", err)})
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Hidden folders hold copies, not flows: Kubernetes mounts a
			// ConfigMap through "..data" and a timestamped "..2024_..." folder,
			// and reading them would load every flow twice.
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			if !d.IsDir() && isFlowFile(path) && !strings.HasPrefix(d.Name(), ".") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read flows: %w", err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, missing, nil
}
