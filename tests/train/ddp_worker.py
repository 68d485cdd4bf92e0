"""Run by test_distributed.py: two gloo processes reduce statistics and take one DDP step.

Usage: python ddp_worker.py OUT_DIR PORT. Rank 0 writes ``stats.npz`` and ``model.safetensors``.
"""

import os
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD = 2


def problem():
    """The shared data and model; every rank (and the single-process check) builds the same."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(32, 6, generator=generator)
    Y = torch.randn(32, 3, generator=generator)
    labels = torch.randint(0, 3, (32,), generator=generator)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    return X, Y, labels, model


def run(rank, out_dir, port):
    from safetensors.torch import save_file

    from netgraph.calibrate.stats import ConsumerStats, UnitStats
    from netgraph.train import all_reduce_stats, finetune

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        X, Y, labels, model = problem()
        shard = slice(rank * 16, (rank + 1) * 16)
        unit, consumer = UnitStats.empty(6), ConsumerStats.empty(6, 3)
        unit.update(X[shard])
        consumer.update(X[shard], Y[shard])
        all_reduce_stats({"unit": unit, "consumer": consumer})
        halves = [(X[:16], labels[:16]), (X[16:], labels[16:])]  # rank r trains on half r
        history = finetune(model, halves, epochs=1, lr=0.1, clip_grad_norm=0.5)
        if rank == 0:
            np.savez(os.path.join(out_dir, "stats.npz"), count=unit.count, total=unit.total, gram=unit.gram,
                     c_gram=consumer.gram, c_cross=consumer.cross, c_target_sq=consumer.target_sq,
                     c_target_sum=consumer.target_sum, loss=history.train_loss[0], steps=history.n_steps)
            save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                      os.path.join(out_dir, "model.safetensors"))
        # Leave together: a rank tearing gloo down while the other still writes aborts it.
        dist.barrier()
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(run, args=(sys.argv[1], int(sys.argv[2])), nprocs=WORLD, join=True)
