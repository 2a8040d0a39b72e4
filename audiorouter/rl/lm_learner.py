"""The group-relative learner for the LM router: one forward per item serves its group.

Episodes are one step, and an LM router's decision for an item is a distribution over
the allowed subsets computed in one pass (the prompt once, every subset's reply after it).
So a group is G subsets sampled from one item's distribution, and the update needs one
forward of that item per epoch, whatever G is. The loss is the group-relative clipped
surrogate the MLP router's learner minimises (group_relative.py), with the exact entropy
of each item's distribution; only the LoRA adapter has gradients.

With reasoning before routing (``router.rationale_tokens``) each sample is a rationale
drawn from the LM and a subset drawn after it, so a group needs one forward per sample,
and a sample's log-probability is the rationale's plus the subset's (lm_rationale.py):
the ratio, and so the update, moves both. The entropy term is the subset distribution's
after each rationale.

    groups = sample_groups(policy, prompts, group_size, rng)    # sampling policy's log-probs kept
    groups = with_advantages(groups, rewards)                    # rewards: per item, per sample
    stats = update(policy, optimizer, groups, epochs=4, minibatch_items=8, clip=0.2, entropy_coeff=0.01)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from audiorouter.rl.group_relative import group_advantages
from audiorouter.router.lm_policy import LMRouterPolicy
from audiorouter.router.lm_rationale import Rationale


@dataclass(frozen=True)
class ItemGroup:
    """G routing samples of one item, as the sampling policy drew them."""

    prompt_ids: list[int]
    actions: list[int]  # indices into the action space's subsets
    old_log_probs: list[float]  # log pi_old(action | item), the rationale's tokens included
    advantages: list[float] = field(default_factory=list)
    rationales: list[Rationale] = field(default_factory=list)  # per sample, with reasoning before routing


def sample_groups(policy: LMRouterPolicy, prompts: list[list[int]], group_size: int,
                  rng: np.random.Generator) -> list[ItemGroup]:
    """``group_size`` subsets per prompt, drawn from the policy's distribution (each after a
    rationale of its own, with reasoning before routing)."""
    if policy.reasons:
        return [_sample_reasoned_group(policy, prompt, group_size, rng) for prompt in prompts]
    groups = []
    with torch.no_grad():
        for prompt in prompts:
            log_probs = policy.log_probs(prompt).double().cpu().numpy()
            probs = np.exp(log_probs)
            actions = rng.choice(len(probs), size=group_size, p=probs / probs.sum())
            groups.append(ItemGroup(prompt, actions.tolist(), log_probs[actions].tolist()))
    return groups


def _sample_reasoned_group(policy: LMRouterPolicy, prompt: list[int], group_size: int,
                           rng: np.random.Generator) -> ItemGroup:
    rationales, actions, old = [], [], []
    with torch.no_grad():
        for _ in range(group_size):
            rationale = policy.rationale(prompt, rng)
            spent, log_probs = policy.log_probs_after(rationale)
            row = log_probs.double().cpu().numpy()
            probs = np.exp(row)
            action = int(rng.choice(len(probs), p=probs / probs.sum()))
            rationales.append(rationale)
            actions.append(action)
            old.append(float(spent) + float(row[action]))
    return ItemGroup(prompt, actions, old, rationales=rationales)


def _forwards(policy: LMRouterPolicy, group: ItemGroup):
    """The forwards ``group``'s loss needs, one at a time: (its samples' indices, their new
    log-probabilities, the entropy of the subset distribution they were drawn from). One
    forward serves the whole group without rationales; with them each sample has its own."""
    if not group.rationales:
        log_probs = policy.log_probs(group.prompt_ids)
        yield list(range(len(group.actions))), log_probs[torch.tensor(group.actions, device=log_probs.device)], \
            _entropy(log_probs)
        return
    for k, (rationale, action) in enumerate(zip(group.rationales, group.actions, strict=True)):
        spent, log_probs = policy.log_probs_after(rationale)
        yield [k], (spent + log_probs[action]).reshape(1), _entropy(log_probs)


def _entropy(log_probs: torch.Tensor) -> torch.Tensor:
    return -(log_probs.exp() * log_probs).sum()


def _loss_shares(policy: LMRouterPolicy, groups: list[ItemGroup], clip: float, entropy_coeff: float):
    """Per forward (``_forwards``): its share of ``group_loss``'s L (the shares sum to L), of
    the surrogate and of the entropy term, and how many of its samples were clipped. A
    caller that backpropagates each share before the next holds one forward's graph at a
    time: with rationales a group is G forwards, each with every subset's reply."""
    samples = sum(len(g.actions) for g in groups)
    for group in groups:
        forwards = len(group.rationales) or 1
        for indices, new, entropy in _forwards(policy, group):
            old = torch.tensor([group.old_log_probs[i] for i in indices], device=new.device, dtype=new.dtype)
            advantages = torch.tensor([group.advantages[i] for i in indices], device=new.device, dtype=new.dtype)
            ratio = torch.exp(new - old)
            bounded = torch.clamp(ratio, 1 - clip, 1 + clip)
            surrogate = torch.min(ratio * advantages, bounded * advantages).sum() / samples
            entropy_share = entropy / (len(groups) * forwards)  # the mean over an item's forwards, then items
            yield (-surrogate - entropy_coeff * entropy_share, float(surrogate.detach()), float(entropy_share.detach()),
                   int(((ratio - 1).abs() > clip).sum()))


def with_advantages(groups: list[ItemGroup], rewards: list[list[float]]) -> list[ItemGroup]:
    """Each sample's reward normalised within its item's group (``group_advantages``)."""
    if len(rewards) != len(groups) or any(len(r) != len(g.actions) for r, g in zip(rewards, groups, strict=True)):
        raise ValueError("rewards must give one value per sampled action of every group")
    flat = np.concatenate([np.asarray(r, dtype=np.float64) for r in rewards])
    names = [str(i) for i, g in enumerate(groups) for _ in g.actions]
    advantages = group_advantages(flat, names)
    out, at = [], 0
    for group in groups:
        out.append(replace(group, advantages=advantages[at : at + len(group.actions)].tolist()))
        at += len(group.actions)
    return out


def group_loss(policy: LMRouterPolicy, groups: list[ItemGroup], clip: float,
               entropy_coeff: float) -> tuple[torch.Tensor, dict[str, float]]:
    r"""L = -mean_i min(rho_i A_i, clip(rho_i, 1-c, 1+c) A_i) - beta * mean_items H(pi(.|x)),
    rho_i = pi(a_i|x) / pi_old(a_i|x), over every sample i of ``groups`` (the rationale's
    tokens included in pi, with one), as one tensor."""
    shares = list(_loss_shares(policy, groups, clip, entropy_coeff))
    return torch.stack([s[0] for s in shares]).sum(), _share_stats(shares, groups)


def _share_stats(shares: list[tuple], groups: list[ItemGroup]) -> dict[str, float]:
    return {"policy_loss": -sum(s[1] for s in shares), "entropy": sum(s[2] for s in shares),
            "clip_fraction": sum(s[3] for s in shares) / sum(len(g.actions) for g in groups)}


def update(policy: LMRouterPolicy, optimizer: torch.optim.Optimizer, groups: list[ItemGroup], *, epochs: int,
           minibatch_items: int, clip: float, entropy_coeff: float, rng: np.random.Generator) -> dict[str, float]:
    """``epochs`` passes over the groups in shuffled minibatches of items; the last
    minibatch's statistics. Groups whose advantages are all zero carry no signal and are skipped."""
    informative = [g for g in groups if any(a != 0 for a in g.advantages)]
    stats = {"policy_loss": 0.0, "entropy": float("nan"), "clip_fraction": 0.0}
    for _ in range(epochs):
        order = rng.permutation(len(informative))
        for start in range(0, len(order), minibatch_items):
            chunk = [informative[i] for i in order[start : start + minibatch_items]]
            optimizer.zero_grad()
            shares = []
            for share in _loss_shares(policy, chunk, clip, entropy_coeff):  # group_loss's L, one graph at a time
                share[0].backward()
                shares.append((None, *share[1:]))
            optimizer.step()
            stats = _share_stats(shares, chunk)
    return {**stats, "informative_fraction": len(informative) / max(len(groups), 1)}
