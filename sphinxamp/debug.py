"""The parts of what `explain`, `explain_log` and `trace_route` return: the annotated field,
the point where decoding stopped, a log line's prefixes, a trace's hops, links and failure
steps. The three tasks and their results (`Explanation`, `LogMessage`'s stream, `Trace`) sit
on the top level; this module names the rest, for code that walks them."""

from sphinxamp._explain import KIND_NAMES as EXPLAIN_KINDS
from sphinxamp._explain import DecodeProblem, Field
from sphinxamp._explain._links import LinkMessage, TraceLink
from sphinxamp._explain._log import MAX_LINE_LENGTH as MAX_LOG_LINE_LENGTH
from sphinxamp._explain._log import LogMessage, LogPrefix
from sphinxamp._explain.trace import FailureStep, HopStory, Leg, TraceHop, TrampolineRoute

__all__ = [
    "EXPLAIN_KINDS",
    "MAX_LOG_LINE_LENGTH",
    "DecodeProblem",
    "FailureStep",
    "Field",
    "HopStory",
    "Leg",
    "LinkMessage",
    "LogMessage",
    "LogPrefix",
    "TraceHop",
    "TraceLink",
    "TrampolineRoute",
]
