"""The model: a small convolutional network, written in PyTorch."""

from torch import nn

from .config import ModelConfig


# TUTORIAL-DEMO: the demo's network, sized for 8x8 digits. Replace it with your tutorial's model.
class SmallCNN(nn.Module):
    """Convolutions (3x3, ReLU) -> 2x2 max-pooling -> dropout -> dense -> one logit per class."""

    def __init__(self, cfg: ModelConfig, image_shape: tuple[int, int, int], num_classes: int):
        super().__init__()
        height, width, channels = image_shape
        pool = 2 if min(height, width) >= 2 else 1  # rows of tabular data are 1 pixel high
        layers = []
        for out_channels in cfg.channels:
            layers += [nn.Conv2d(channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
            channels = out_channels
        self.features = nn.Sequential(*layers, nn.MaxPool2d(pool))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(cfg.dropout),
            nn.Linear(channels * (height // pool) * (width // pool), cfg.hidden),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, num_classes),
        )

    def forward(self, images):
        images = images.permute(0, 3, 1, 2)  # (n, height, width, channels) -> (n, channels, h, w)
        return self.classifier(self.features(images))


def build_model(cfg: ModelConfig, image_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    return SmallCNN(cfg, image_shape, num_classes)
