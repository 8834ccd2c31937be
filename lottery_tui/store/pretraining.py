"""Framework, pretraining and evaluation-protocol tags of a model, from its name, source and
probe head.

The one place these rules live (documented in docs/store.md, "Pretraining tags"): one derivation
gives all three, so they never disagree. Pure Python: the store calls `tags` when it adds a model
and keeps the result in `models` (re-tagging every model when TAG_RULES_VERSION changes), and the
`results` view shows it. Rules are tried in order; the first that matches decides.

- framework: the self-supervised method ('swav', 'dino', 'mae', 'seer', ...) of a
  self-supervised model, else its pretraining kind ('supervised', 'image-text', ...); a probe
  run's framework is the one it was run with.

- pretraining: what the weights learnt from before any ImageNet-1k head: supervised labels,
  self-supervised objectives, pseudo-labels on unlabelled images (semi-supervised), noisy web
  labels such as hashtags (weakly-supervised), or image-text pairs.
- protocol: how the ImageNet-1k classifier that produced the results was obtained: weights
  trained with ImageNet-1k labels end to end (fine-tuned, also from scratch), a linear head on
  frozen features (linear-probe), k-nearest neighbours on frozen features (knn), or class-name
  prompts without ImageNet training (zero-shot).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

PROBE_SOURCE = "probe"  # the source name of every probed model: identity ('probe', model)

PRETRAINING = (
    "supervised",
    "self-supervised",
    "semi-supervised",
    "weakly-supervised",
    "image-text",
    "unknown",
)
PROTOCOLS = (
    "fine-tuned",
    "linear-probe",
    "linear-probe-lbfgs",  # a head the probe trained here: L-BFGS logistic regression
    "linear-probe-adamw",  # a head the probe trained here: the AdamW option
    "knn",
    "zero-shot",
    "unknown",
)
# Bump when a rule below changes: a store tagged by other rules is re-tagged when it opens.
TAG_RULES_VERSION = 3  # 3: heads trained here tagged by solver

# Name tokens that name a self-supervised (or masked-image) pretraining method: the framework
# of a model whose name carries one. SEER: SwAV on a billion Instagram images.
SSL_METHODS = frozenset(
    {
        "barlowtwins", "byol", "data2vec", "dino", "dinov2", "fcmae", "ibot", "mae", "mim",
        "moco", "mocov2", "mocov3", "msn", "seer", "simclr", "simclrv2", "simsiam", "swav",
        "vicreg",
    }
)  # fmt: skip
# Architectures pretrained by masked image modelling whatever their tag says (BEiT, and EVA-01:
# masked CLIP-feature prediction on ImageNet-21k or Merged-30M); the architecture names the
# framework when no tag token does.
SSL_ARCHITECTURES = frozenset({"beit", "beitv2", "eva"})
# Tokens of a timm pretrained tag (after the '.', split on '_') or architecture name.
IMAGE_TEXT_TOKENS = frozenset(
    {"clip", "openai", "laion", "laion2b", "laion400m", "dfn2b", "dfn5b", "metaclip", "siglip"}
)
SEMI_TOKENS = frozenset({"ssl", "ns", "noisystudent"})  # fb_ssl_yfcc100m, ns_jft (Noisy Student)
WEAK_TOKENS = frozenset({"swsl", "wsl", "ig1b", "ig3b", "swag", "instagram"})  # hashtag labels

# Probe frameworks (lottery_tui.probe.checkpoints.FRAMEWORKS) that are supervised; the others
# are self-supervised methods or self-supervised model libraries (vissl, mmselfsup, solo-learn).
SUPERVISED_FRAMEWORKS = frozenset({"supervised", "torchvision"})

# Sources whose plain names (no timm tag) are supervised ImageNet-1k classifiers unless a name
# rule says otherwise: analysing-relations ships timm's default weights of late 2022; most of the
# ImageNet testbed's 338 models are supervised, and its other kinds carry markers in the name.
SUPERVISED_SOURCES = frozenset({"analysing-relations", "imagenet-testbed"})


_TIMM_TAG = re.compile(r"[a-z0-9_]*[a-z][a-z0-9_]*")  # not the "25" of "noise_0.25"


@dataclass(frozen=True)
class Tags:
    framework: str
    pretraining: str
    protocol: str


# Names without a timm tag (the ImageNet testbed's and other plain names), lower-cased; a
# pattern is searched anywhere in the name. Each rule: (pattern, pretraining, protocol).
NAME_RULES: tuple[tuple[str, str, str], ...] = (
    (r"clip_zeroshot", "image-text", "zero-shot"),
    (r"simclrv2.*linear_probe", "self-supervised", "linear-probe"),
    (r"simclrv2.*finetuned", "self-supervised", "fine-tuned"),
    # The testbed's SwAV and SimSiam rows are the papers' linear evaluations (75.3 %, 67.8 %).
    (r"(^|[_-])(swav|simsiam)$", "self-supervised", "linear-probe"),
    # VTAB's S4L models: semi-* use 10 % of the labels; sup-rotation / sup-exemplar train on all
    # labels with a self-supervised auxiliary loss (76.5 % and 74.1 % top-1): supervised.
    (r"vtab-semi-", "semi-supervised", "fine-tuned"),
    (r"vtab-(rotation|exemplar)", "supervised", "fine-tuned"),
    (r"_ssl$|noisystudent", "semi-supervised", "fine-tuned"),
    (r"_swsl$|^instagram-", "weakly-supervised", "fine-tuned"),
    # BiT-M's ImageNet-21k classifier restricted to the 1k classes: pretrained with labels,
    # never trained on ImageNet-1k, and not a probe or a prompt: protocol unknown.
    (r"^bit-m-.*-nonfinetuned$", "supervised", "unknown"),
    (r"_one_nn$", "unknown", "knn"),
    (r"_lstsq$", "unknown", "linear-probe"),
    (r"random_forests$", "unknown", "unknown"),
)


@functools.lru_cache(maxsize=8192)  # a seed tags each timm name once per results file
def tags(name: str, source: str, framework: str | None = None, head: str | None = None) -> Tags:
    """The tags of a model: `name` is its timm-style name ('arch.tag') or a plain one. For
    source 'probe', `framework` is the run's and `head` its head kind (builtin, linear, train,
    knn); other sources' frameworks follow from the name."""
    if source == PROBE_SOURCE:
        return _probe(framework, head)
    architecture, _, tag = name.lower().partition(".")
    if _TIMM_TAG.fullmatch(tag):
        pretraining, protocol = _timm(architecture, tag)
        method = _method(tag) or _method(architecture, SSL_METHODS | SSL_ARCHITECTURES)
    else:
        pretraining, protocol = _plain(name.lower(), source)
        method = _method(name.lower())
    if pretraining == "self-supervised" and method is not None:
        return Tags(method, pretraining, protocol)
    return Tags(pretraining, pretraining, protocol)


def _method(text: str, methods: frozenset[str] = SSL_METHODS) -> str | None:
    """The first token of `text` (split on '_', '-' and '.') that names a method in `methods`."""
    return next((t for t in re.split(r"[_.-]", text) if t in methods), None)


def _plain(name: str, source: str) -> tuple[str, str]:
    for pattern, pretraining, protocol in NAME_RULES:
        if re.search(pattern, name):
            return pretraining, protocol
    if source in SUPERVISED_SOURCES:
        return "supervised", "fine-tuned"
    return "unknown", "unknown"


def _timm(architecture: str, tag: str) -> tuple[str, str]:
    """timm: the pretrained tag names the data ('in1k', 'in22k_ft_in1k', 'laion2b_ft_in12k_in1k')
    and method ('fb_dino', 'mae', 'fb_swsl_ig1b_ft_in1k', 'swag_lc_in1k'). A model with a tag
    whose ImageNet head is a linear classifier on frozen features says 'lc' (SWAG)."""
    tokens = set(tag.split("_"))
    arch_tokens = set(architecture.split("_"))
    if tokens & IMAGE_TEXT_TOKENS or arch_tokens & IMAGE_TEXT_TOKENS:
        pretraining = "image-text"
    elif tokens & SSL_METHODS or arch_tokens & (SSL_METHODS | SSL_ARCHITECTURES):
        pretraining = "self-supervised"
    elif tokens & SEMI_TOKENS:
        pretraining = "semi-supervised"
    elif tokens & WEAK_TOKENS:
        pretraining = "weakly-supervised"
    else:
        pretraining = "supervised"
    if "lc" in tokens:
        protocol = "linear-probe"
    elif pretraining in ("self-supervised", "image-text") and "ft" not in tokens:
        protocol = "unknown"  # e.g. 'fb_dino': the tag does not say how the head was made
    else:
        protocol = "fine-tuned"
    return pretraining, protocol


def _probe(framework: str | None, head: str | None) -> Tags:
    """A probe run: the framework says the pretraining, the head the protocol. A checkpoint's
    own (builtin) classifier is fine-tuned for supervised weights and, for self-supervised
    releases (SwAV, DINO, MoCo v3, SimSiam), their linear evaluation head."""
    supervised = framework in SUPERVISED_FRAMEWORKS
    if framework is None:
        pretraining = "unknown"
    else:
        pretraining = "supervised" if supervised else "self-supervised"
    if head == "knn":
        protocol = "knn"
    elif head == "linear":
        protocol = "linear-probe"
    elif head == "train":
        protocol = "linear-probe-lbfgs"
    elif head == "train-adamw":
        protocol = "linear-probe-adamw"
    elif head == "builtin":
        protocol = "fine-tuned" if supervised else "linear-probe"
    else:
        protocol = "unknown"
    return Tags(framework or "unknown", pretraining, protocol)
