# FCFD on ImageNet: ResNet-34 (torchvision weights) -> ResNet-18 from scratch. The official code's setting: T=1,
# lambda=0.02, mu=1, L2 warm-up 5 epochs.
#   bash tools/dist_train.sh configs/classification/fcfd_imagenet_resnet34_resnet18.py 8
_base_ = ['./_base_/fcfd_imagenet.py']
