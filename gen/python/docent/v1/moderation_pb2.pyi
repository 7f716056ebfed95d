from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_INPUT: _ClassVar[Direction]
    DIRECTION_OUTPUT: _ClassVar[Direction]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_ALLOW: _ClassVar[Decision]
    DECISION_BLOCK: _ClassVar[Decision]
DIRECTION_UNSPECIFIED: Direction
DIRECTION_INPUT: Direction
DIRECTION_OUTPUT: Direction
DECISION_UNSPECIFIED: Decision
DECISION_ALLOW: Decision
DECISION_BLOCK: Decision

class CheckRequest(_message.Message):
    __slots__ = ("text", "direction")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    text: str
    direction: Direction
    def __init__(self, text: _Optional[str] = ..., direction: _Optional[_Union[Direction, str]] = ...) -> None: ...

class CheckContextRequest(_message.Message):
    __slots__ = ("question", "passages", "top_retrieval_score", "retrieval_relevance")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    TOP_RETRIEVAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    RETRIEVAL_RELEVANCE_FIELD_NUMBER: _ClassVar[int]
    question: str
    passages: _containers.RepeatedScalarFieldContainer[str]
    top_retrieval_score: float
    retrieval_relevance: float
    def __init__(self, question: _Optional[str] = ..., passages: _Optional[_Iterable[str]] = ..., top_retrieval_score: _Optional[float] = ..., retrieval_relevance: _Optional[float] = ...) -> None: ...

class CheckContextResponse(_message.Message):
    __slots__ = ("scope", "passages")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    scope: CheckResponse
    passages: _containers.RepeatedCompositeFieldContainer[CheckResponse]
    def __init__(self, scope: _Optional[_Union[CheckResponse, _Mapping]] = ..., passages: _Optional[_Iterable[_Union[CheckResponse, _Mapping]]] = ...) -> None: ...

class CategoryScore(_message.Message):
    __slots__ = ("category", "score", "threshold", "flagged")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    category: str
    score: float
    threshold: float
    flagged: bool
    def __init__(self, category: _Optional[str] = ..., score: _Optional[float] = ..., threshold: _Optional[float] = ..., flagged: _Optional[bool] = ...) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ("decision", "categories", "reason", "evidence")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    categories: _containers.RepeatedCompositeFieldContainer[CategoryScore]
    reason: str
    evidence: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., categories: _Optional[_Iterable[_Union[CategoryScore, _Mapping]]] = ..., reason: _Optional[str] = ..., evidence: _Optional[_Iterable[str]] = ...) -> None: ...
