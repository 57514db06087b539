def pick_device(name: str) -> torch.device:
    """``auto`` picks CUDA if there is a GPU, else Apple's MPS, else the CPU."""
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
        "cpu": True,
    }
    if name == "auto":
        name = next(device for device, present in available.items() if present)
    if not available[name]:
        raise ConfigError(f"device {name!r} is not available to PyTorch here: use auto or cpu.")
    return torch.device(name)
