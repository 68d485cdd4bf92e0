"""Fine-tuning and knowledge distillation of reduced models (single process or DDP).

Examples
--------
>>> from netgraph.train import finetune, distill, History
"""

from netgraph.train.distributed import all_reduce_stats, is_distributed, rank_and_world_size
from netgraph.train.finetune import OBJECTIVES, distill, finetune
from netgraph.train.loop import History
from netgraph.train.options import TrainingOptions

__all__ = ["History", "OBJECTIVES", "TrainingOptions", "all_reduce_stats", "distill", "finetune", "is_distributed",
           "rank_and_world_size"]
