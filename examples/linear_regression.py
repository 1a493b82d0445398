"""Linear regression: one Linear layer trained by minibatch SGD, against scikit-learn's closed form.

    python examples/linear_regression.py            # full run
    python examples/linear_regression.py --quick    # a few seconds, for the tests

The data is a noisy line (``y = 2x - 1 + noise``). With ``--noise 1`` the noise is about as large
as the signal, so even the best line only explains half of the variance (R2 about 0.5), as in the
original student project. Gradient descent should land on the same line as least squares.
"""

import matplotlib.pyplot as plt
import numpy as np
from common import parser, predict, save, train
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.data import DataLoader, TensorDataset
from tinygradnn.datasets import linear_data


def main(argv=None) -> dict:
    p = parser(__doc__, epochs=100, lr=0.05, batch_size=32)
    p.add_argument("--noise", type=float, default=1.0, help="std of the Gaussian noise added to the line")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = 30

    torch.manual_seed(args.seed)
    x_train, y_train = linear_data(500, noise=args.noise, seed=args.seed)
    x_test, y_test = linear_data(500, noise=args.noise, seed=args.seed + 1)
    loader = DataLoader(TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train[:, None])),
                        batch_size=args.batch_size, shuffle=True)

    model = nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    # Halve the step size every quarter of the run: minibatch noise averages out near the optimum.
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, args.epochs // 4), gamma=0.5)
    history = train(model, loader, nn.MSELoss(), opt, args.epochs, "linear regression", scheduler=scheduler)

    sgd_r2 = r2_score(y_test, predict(model, torch.from_numpy(x_test))[:, 0])
    ols = LinearRegression().fit(x_train, y_train)  # the closed-form least-squares solution
    ols_r2 = r2_score(y_test, ols.predict(x_test))
    slope, intercept = model.weight.item(), model.bias.item()
    print(f"linear_regression: test R2 {sgd_r2:.4f} (SGD) vs {ols_r2:.4f} (scikit-learn closed form); "
          f"line y = {slope:.3f} x {intercept:+.3f} vs y = {ols.coef_[0]:.3f} x {ols.intercept_:+.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    line = np.linspace(-1, 1, 2)
    axes[0].scatter(x_test[:, 0], y_test, s=6, alpha=0.4, label="test data")
    axes[0].plot(line, slope * line + intercept, lw=3, label=f"SGD (R2 {sgd_r2:.3f})")
    axes[0].plot(line, ols.coef_[0] * line + ols.intercept_, "k--", label=f"closed form (R2 {ols_r2:.3f})")
    axes[0].set(title="fitted lines", xlabel="x", ylabel="y")
    axes[0].legend()
    axes[1].plot(range(1, len(history) + 1), history)
    axes[1].set(title="training loss (MSE)", xlabel="epoch")
    save(fig, args.out, "linear_regression.png")
    return {"sgd_r2": float(sgd_r2), "sklearn_r2": float(ols_r2), "slope": slope, "intercept": intercept,
            "final_loss": history[-1]}


if __name__ == "__main__":
    main()
