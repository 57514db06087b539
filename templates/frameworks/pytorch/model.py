"""The model: a small convolutional network, written in PyTorch."""

from __future__ import annotations

from torch import nn

from .config import ModelConfig


class DigitCNN(nn.Module):
    """Convolutions (3x3, ReLU) -> 2x2 max-pooling -> dropout -> dense -> class logits."""

    def __init__(self, cfg: ModelConfig, image_shape: tuple[int, int], num_classes: int):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for width in cfg.channels:
            layers += [nn.Conv2d(channels, width, kernel_size=3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        height, width = (size // 2 for size in image_shape)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(cfg.dropout),
            nn.Linear(channels * height * width, cfg.hidden),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, num_classes),
        )

    def forward(self, images):
        return self.classifier(self.features(images))


def build_model(cfg: ModelConfig, image_shape: tuple[int, int], num_classes: int) -> nn.Module:
    return DigitCNN(cfg, image_shape, num_classes)
