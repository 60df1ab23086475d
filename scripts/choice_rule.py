#!/usr/bin/python3
"""What the automatic choice compared in each run, and what the rule before 2026-12-05 would have chosen
(docs/RESULTS.md, "The paper's protocol with today's default, and what the automatic choice
compares").

    /usr/bin/python3 scripts/choice_rule.py RUN [RUN ...]

RUN: a `sammpa run` output folder with a self_config.json. Printed per run: the supports with an object, each
mode's mean final Dice over every support (the rule before: the highest of these, ties to registration, then
feature; its check of coarse against final masks is left out, so a run that kept coarse masks shows "coarse"), the scores compared today (over the supports with an object, the ranked mode without its "no object"
answers) and the mode chosen. Steps 3-4 skipped (coarse masks kept) is marked with "coarse".
"""
import json
import os
import sys

ORDER = ["registration", "feature", "ranked"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| run | supports with an object | every support: registration / feature / ranked | rule before |"
          " compared: registration / feature / ranked | chosen |")
    print("|---|---|---|---|---|---|")
    for run in sys.argv[1:]:
        s = json.load(open(os.path.join(run, "self_config.json")))
        modes = s["modes"]
        every = {m: modes[m]["mean_final_dice"] for m in ORDER if m in modes}
        before = max(every, key=lambda m: (round(every[m], 12), -ORDER.index(m)))
        compared = {m: modes[m].get("compared") for m in ORDER if m in modes}
        chosen = s["chosen"] + ("" if s.get("steps_3_4", True) else " (coarse)")
        mark = "" if before == s["chosen"] else " **"
        name = os.path.normpath(run)
        if os.path.basename(name) == "out":  # scripts/eval_auto.sh's layout: WORK/CONFIG/out
            name = os.path.dirname(name)
        print(f"| {os.path.basename(name)} "
              f"| {len(s.get('compared_on', []))} of {len(s['support'])} "
              f"| {' / '.join(f'{every[m]:.3f}' for m in ORDER if m in every)} | {before} "
              f"| {' / '.join('-' if compared[m] is None else f'{compared[m]:.3f}' for m in ORDER if m in compared)} "
              f"| {chosen}{mark} |")


if __name__ == "__main__":
    main()
