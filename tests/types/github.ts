// A caller Worker typed against the GitHub capability (see tests/types/stripe.ts).
import type { GithubCapability, Issue, BasicError } from "../../generated/github/index";

interface Env {
  GITHUB: Service<GithubCapability>;
}

export async function triage(env: Env): Promise<string[]> {
  const issue = await env.GITHUB.issues.get("octocat", "Hello-World", 1347);
  const out: string[] = [];
  if (issue.ok) {
    const found: Issue = issue.result;
    out.push(found.title, found.state);
    for (const label of found.labels) out.push(typeof label === "string" ? label : (label.name ?? ""));
    // @ts-expect-error an issue's number is a number
    const n: string = found.number;
    void n;
  } else if (issue.error.code === "upstream_error" && typeof issue.error.upstream === "object") {
    const e: BasicError = issue.error.upstream;
    out.push(e.message ?? "");
  }
  const content = await env.GITHUB.repos.getContent("o", "r", "docs/README.md", { ref: "main" });
  if (content.ok && !Array.isArray(content.result) && content.result.type === "file") out.push(content.result.sha);
  const merged = await env.GITHUB.pulls.merge("o", "r", 7, { merge_method: "squash" });
  if (merged.ok) merged.result.merged satisfies boolean;
  const raw = await env.GITHUB.markdown.renderRaw("Hello **world**");
  if (raw.ok) raw.result satisfies string;
  return out;
}
