"""USPS autoencoder: reconstructions, k-means on pixels vs on the code, t-SNE, classifier on the code.

    python examples/usps_autoencoder.py            # full run
    python examples/usps_autoencoder.py --quick    # a few seconds, for the tests

An encoder (256 -> 128 -> 10, Tanh) squeezes each image into a 10-number code and a decoder
(10 -> 128 -> 256, Sigmoid) rebuilds the image; both are trained together on the binary
cross-entropy between pixels and reconstruction, with no labels. Then, with the encoder frozen:

1. k-means (10 clusters) on the raw pixels and on the code: purity, NMI and silhouette of each;
2. t-SNE of the code of test images, coloured by digit;
3. a small MLP trained on the code alone to recognise the digit.
"""

import common
import matplotlib.pyplot as plt
import numpy as np
import usps_common
from sklearn.cluster import KMeans
from sklearn.manifold import TSNE
from sklearn.metrics import normalized_mutual_info_score, silhouette_score

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.utils.data import DataLoader, TensorDataset

LATENT = 10


def purity(labels, clusters) -> float:
    """Fraction of points whose cluster's majority digit is their own digit."""
    return float(sum(np.bincount(labels[clusters == c]).max() for c in np.unique(clusters)) / len(labels))


def kmeans_scores(features, labels, seed) -> dict:
    clusters = KMeans(n_clusters=10, n_init=10, random_state=seed).fit_predict(features)
    return {"purity": purity(labels, clusters),
            "nmi": normalized_mutual_info_score(labels, clusters),
            "silhouette": float(silhouette_score(features, clusters))}


def main(argv=None) -> dict:
    p = common.parser(__doc__, epochs=30, lr=2e-3)
    p.add_argument("--clf-epochs", type=int, default=30, help="epochs of the classifier on the frozen code")
    p.add_argument("--tsne-points", type=int, default=2000)
    args = p.parse_args(argv)
    if args.quick:  # 1000 training images (see common.usps), same epochs, fewer t-SNE points
        args.tsne_points = 300
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in common.usps(quick=args.quick))

    # ---- 1. the autoencoder, trained to reproduce its input (the target is the image itself)
    encoder = nn.Sequential(nn.Linear(256, 128), nn.Tanh(), nn.Linear(128, LATENT), nn.Tanh())
    decoder = nn.Sequential(nn.Linear(LATENT, 128), nn.Tanh(), nn.Linear(128, 256), nn.Sigmoid())
    autoencoder = nn.Sequential(encoder, decoder)
    optimizer = torch.optim.Adam(autoencoder.parameters(), lr=args.lr)
    loader = DataLoader(TensorDataset(x_train, x_train), batch_size=args.batch_size, shuffle=True)
    common.train(autoencoder, loader, nn.BCELoss(), optimizer, args.epochs, "autoencoder")

    reconstruction = common.predict(autoencoder, x_test)
    test_mse = float(((reconstruction - x_test.numpy()) ** 2).mean())
    print(f"usps_autoencoder: latent {LATENT} test MSE {test_mse:.4f}")
    originals = x_test.numpy()[:10].reshape(-1, 16, 16)
    usps_common.plot_images(args.out, "usps_autoencoder_reconstructions.png",
                            np.concatenate([originals, reconstruction[:10].reshape(-1, 16, 16)]),
                            title="test images (top) and their reconstructions (bottom)")

    # ---- 2. k-means on raw pixels vs on the code
    code_train, code_test = common.predict(encoder, x_train), common.predict(encoder, x_test)
    labels = y_test.numpy()
    raw = kmeans_scores(x_test.numpy(), labels, args.seed)
    latent = kmeans_scores(code_test, labels, args.seed)
    print("usps_autoencoder: k-means (10 clusters, test set)  purity    NMI  silhouette")
    for name, s in (("raw pixels (256)", raw), (f"latent code ({LATENT})", latent)):
        print(f"usps_autoencoder:   {name:<30} {s['purity']:6.3f} {s['nmi']:6.3f} {s['silhouette']:10.3f}")

    # ---- 3. t-SNE of the code of test images
    n = min(args.tsne_points, len(code_test))
    embedded = TSNE(n_components=2, init="pca", random_state=args.seed).fit_transform(code_test[:n])
    fig, ax = plt.subplots(figsize=(6, 5.5))
    points = ax.scatter(embedded[:, 0], embedded[:, 1], c=labels[:n], cmap="tab10", s=5)
    ax.legend(*points.legend_elements(), title="digit", loc="best", fontsize=7)
    ax.set(title=f"t-SNE of the {LATENT}-d code ({n} test images)", xticks=[], yticks=[])
    common.save(fig, args.out, "usps_autoencoder_tsne.png")

    # ---- 4. a classifier on the frozen code: the encoder is not trained any more, only this MLP.
    # Its inputs are standardised (mean 0, std 1 per code dimension, from the training codes).
    mean, std = code_train.mean(0), code_train.std(0)
    z_train, z_test = torch.from_numpy((code_train - mean) / std), torch.from_numpy((code_test - mean) / std)
    classifier = nn.Sequential(nn.Linear(LATENT, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(classifier.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.clf_epochs)
    loader = DataLoader(TensorDataset(z_train, y_train), batch_size=args.batch_size, shuffle=True)
    common.train(classifier, loader, nn.CrossEntropyLoss(), optimizer, args.clf_epochs, "classifier on code",
                 scheduler=scheduler)
    train_acc, test_acc = common.accuracy(classifier, z_train, y_train), common.accuracy(classifier, z_test, y_test)
    print(f"usps_autoencoder: classifier on frozen code train acc {train_acc:.3f} test acc {test_acc:.3f}")

    return {"test_mse": test_mse, "latent_dim": LATENT,
            **{f"kmeans_raw_{k}": v for k, v in raw.items()},
            **{f"kmeans_latent_{k}": v for k, v in latent.items()},
            "clf_train_acc": train_acc, "clf_test_acc": test_acc}


if __name__ == "__main__":
    main()
