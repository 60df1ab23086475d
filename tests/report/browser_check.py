#!/usr/bin/python3
"""report.html in a real browser (Debian's chromium, headless): a small real run's report loads every picture,
logs nothing to the console, and shows eval.json's numbers; a screenshot is kept as the test's artefact.

    browser_check.py SAMMPA_PROGRAM WORK_DIR

The run is `sammpa run` on a small phantom set (checkpoint: $SAMMPA_MOBILE_SAM, else the cached one).
Checking pictures needs a script in the page, so the check loads a copy of the report with one appended (all
pictures loaded eagerly, then listed with their pixel size); the report itself has no script.
"""
import json
import os
import re
import shutil
import subprocess
import sys

CHECK = """
<script>
document.querySelectorAll('img').forEach(function (i) { i.loading = 'eager'; });
window.addEventListener('load', function () {
  var imgs = Array.from(document.querySelectorAll('img'));
  var cells = {};
  document.querySelectorAll('td[data-key]').forEach(function (td) { cells[td.dataset.key] = td.dataset.value; });
  var out = document.createElement('pre');
  out.id = 'sammpa-check';
  out.textContent = JSON.stringify({
    images: imgs.length,
    broken: imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; }).map(function (i) { return i.src; }),
    cells: cells});
  document.body.appendChild(out);
});
</script>
"""


def chromium(*args):
    exe = shutil.which("chromium")
    if not exe:
        sys.exit("chromium is not installed (scripts/setup.sh installs Debian's chromium)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=15000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def console_messages(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def main():
    program, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    run, data = os.path.join(work, "run"), os.path.join(work, "data")
    subprocess.run([program, "-q", "phantom", "--out", data, "--count", "8", "--size", "128"], check=True,
                   stdout=subprocess.DEVNULL)
    cmd = [program, "-q", "run", "--data", data, "-k", "2", "--out", run]
    if os.environ.get("SAMMPA_MOBILE_SAM"):
        cmd += ["--checkpoint", os.environ["SAMMPA_MOBILE_SAM"]]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    report = os.path.join(run, "report.html")

    # The report as it is: no console message at all, and a screenshot.
    shot = os.path.join(work, "report.png")
    r = chromium("--window-size=1280,1600", f"--screenshot={shot}", "file://" + os.path.abspath(report))
    assert r.returncode == 0, r.stderr[-2000:]
    assert os.path.getsize(shot) > 10000, "the screenshot is (nearly) empty"
    assert not console_messages(r.stderr), console_messages(r.stderr)

    # Its copy with the check appended: every picture loads, every number is eval.json's.
    html = open(report, encoding="utf-8").read()
    checked = os.path.join(run, "report_check.html")
    open(checked, "w", encoding="utf-8").write(html.replace("</body>", CHECK + "</body>"))
    r = chromium("--dump-dom", "file://" + os.path.abspath(checked))
    assert r.returncode == 0, r.stderr[-2000:]
    assert not console_messages(r.stderr), console_messages(r.stderr)
    m = re.search(r'<pre id="sammpa-check">(.*?)</pre>', r.stdout, re.S)
    assert m, "the check did not run:\n" + r.stdout[-2000:]
    check = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                       .replace("&gt;", ">"))
    run_json = json.load(open(os.path.join(run, "run.json")))
    assert check["images"] == run_json["images"], (check["images"], run_json["images"])  # supports + queries
    assert not check["broken"], check["broken"]

    scores = {"final": json.load(open(os.path.join(run, "eval.json"))),
              "coarse": json.load(open(os.path.join(run, "eval_coarse.json")))}
    assert "final.overall.dice" in check["cells"] and "coarse.overall.dice" in check["cells"], check["cells"]
    for key, value in check["cells"].items():
        kind, *path, metric = key.split(".")
        node = scores[kind]
        for p in path:
            node = node[p]
        assert float(value) == node[metric]["mean"], (key, value, node[metric]["mean"])
    print(f"report.html in chromium: {check['images']} pictures loaded, {len(check['cells'])} numbers equal "
          f"eval.json's, no console message; screenshot {shot}")


if __name__ == "__main__":
    main()
