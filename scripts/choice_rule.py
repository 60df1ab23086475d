#!/usr/bin/python3
"""What the automatic choice compared in each run, and what the rule before 2026-12-05 would have chosen
(docs/RESULTS.md, "The paper's protocol with today's default, and what the automatic choice
compares").

    /usr/bin/python3 scripts/choice_rule.py RUN [RUN ...]

RUN: a `sammpa run` output folder with a self_config.json. Printed per run: the supports with an object, each
mode's mean final Dice over every support (the rule before: the highest of these, ties to registration, then
feature; its check of coarse against final masks is left out, so a run that kept coarse masks shows "coarse"), the scores compared today (over the supports with an object, the ranked mode without its "no object"
answers), the mode chosen, and what the rule of "Within the noise of the supports" chooses from the same
scores (the best compared mean must lead registration by more than one standard error of the paired
per-support differences, on three or more supports, and feature propagation must so lead the ranked mode; coarse
masks left out), so that runs of an earlier program can be judged by it, and what today's rule chooses
(docs/RESULTS.md, "The fused maps within the noise of registration": the fused maps among the modes, coarse
masks where they clearly beat final ones, the fused maps kept within the noise of registration). Steps 3-4
skipped (coarse masks kept) is marked with "coarse".
"""
import json
import math
import os
import sys

ORDER = ["registration", "feature", "ranked"]


def clear_lead(a, b):
    """Whether a leads b by more than one standard error of the paired differences (fewer than 3: it does)."""
    d = [x - y for x, y in zip(a, b)]
    if len(d) < 3:
        return True
    m = sum(d) / len(d)
    se = math.sqrt(sum((x - m) ** 2 for x in d) / len(d) / (len(d) - 1))
    return m > 1e-12 and m > se * (1 + 1e-9) + 1e-12


def within_noise_choice(s):
    """The choice of the within-the-noise rule from a self_config.json's scores (final masks only)."""
    names = s["support"]
    on = set(s.get("compared_on") or names)
    scores = {}
    for m in ORDER:
        if m not in s["modes"]:
            continue
        v = s["modes"][m].get("final_dice_without_empty_answers", s["modes"][m]["final_dice"])
        scores[m] = [x for n, x in zip(names, v) if n in on]
    best = max(scores, key=lambda m: (sum(scores[m]) / len(scores[m]), -ORDER.index(m)))
    if best != "registration" and "registration" in scores and not clear_lead(scores[best], scores["registration"]):
        best = "registration"
    if best == "feature" and "ranked" in scores and not clear_lead(scores["feature"], scores["ranked"]):
        best = "ranked"
    return best


def todays_choice(s):
    """The choice of today's rule (choose_from_scores, src/pipeline/self_config.cpp) from a self_config.json."""
    modes, names = s["modes"], s["support"]
    on = set(s.get("compared_on") or names)
    judged = lambda v: [x for n, x in zip(names, v) if n in on] if len(v) == len(names) else v
    final = {m: judged(v.get("final_dice_without_empty_answers") or v["final_dice"]) for m, v in modes.items()}
    coarse = {m: judged(v["coarse_dice"]) for m, v in modes.items() if m != "ranked"}
    mean = lambda v: sum(v) / len(v)
    lead = lambda a, b: [x - y for x, y in zip(a, b)]

    def clear(d):  # clearly_positive (src/eval/metrics.cpp): the mean above one standard error, two or more values
        if len(d) < 2:
            return False
        m = sum(d) / len(d)
        return m > 1e-12 and m > math.sqrt(sum((x - m) ** 2 for x in d) / len(d) / (len(d) - 1)) * (1 + 1e-9) + 1e-12

    loses = lambda m: m in coarse and clear(lead(coarse[m], final[m]))
    chosen, keep, best = "registration", False, mean(final["registration"])
    for m in ("registration", "feature", "fused", "ranked"):
        if m not in final:
            continue
        if mean(final[m]) > best:
            best, chosen, keep = mean(final[m]), m, False
        if m != "ranked" and mean(coarse[m]) > best + 1e-12 and loses(m):
            best, chosen, keep = mean(coarse[m]), m, True
    scores = lambda m, c: (coarse if c else final).get(m)

    def within_noise(to, to_coarse, replace):
        nonlocal chosen, keep
        a, b = scores(chosen, keep), scores(to, to_coarse)
        if a is None or b is None or len(a) < 3 or clear(lead(a, b)):
            return False
        if replace:
            chosen, keep = to, to_coarse
        return True

    reg_coarse = mean(coarse["registration"]) > mean(final["registration"]) and loses("registration")
    near = False
    if chosen == "fused":
        near = within_noise("registration", reg_coarse, False)
    elif chosen != "registration":
        within_noise("registration", reg_coarse, True)
    ranked_clear = "ranked" in final and clear(lead(final["ranked"], scores("registration", reg_coarse)))
    if chosen == "feature" or (chosen == "fused" and (not near or ranked_clear)):
        within_noise("ranked", False, True)
    return chosen + (" (coarse)" if keep else "")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("| run | supports with an object | every support: registration / feature / ranked | rule before |"
          " compared: registration / feature / ranked | chosen | within the noise | today |")
    print("|---|---|---|---|---|---|---|---|")
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
              f"| {chosen}{mark} | {within_noise_choice(s)} | {todays_choice(s)} |")


if __name__ == "__main__":
    main()
