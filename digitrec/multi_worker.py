"""Training on several machines at once: tf.distribute's MultiWorkerMirroredStrategy.

Keras 3's `model.fit` does not run under this strategy (keras-team/keras#20585: it reduces a
batch of images across workers to learn the input's shape, and TensorFlow refuses), so the
workers train here with a plain loop of `strategy.run` steps. Each worker varies and feeds
its own share of every step's batches; the optimizer sums the gradients of all of them, so
every worker holds the same weights after every step.
"""

import numpy as np

from digitrec import models


def fit(model, batches, epochs, strategy, learning_rate, validation=None):
    """Train `model` (built and compiled in `strategy`'s scope) on the `WriterBatches`
    `batches`, `learning_rate(epoch)` for each epoch; return Keras's history dict."""
    import tensorflow as tf

    workers = strategy.num_replicas_in_sync
    task = strategy.cluster_resolver.task_id or 0
    steps = len(batches) // workers  # Whole steps only: every worker takes part in each.
    image, target = batches[0]
    signature = (
        tf.TensorSpec((None, *image.shape[1:]), tf.float32),
        tf.TensorSpec((None, target.shape[1]), tf.float32),
    )

    def own_batches(context):
        # This worker's batches: every `workers`-th of the epoch's, from its own index on.
        def generate():
            for step in range(steps):
                yield batches[step * workers + task]

        return tf.data.Dataset.from_generator(generate, output_signature=signature)

    optimizer, loss = model.optimizer, tf.keras.losses.CategoricalCrossentropy(reduction="none")

    @tf.function
    def step(images, targets):
        with tf.GradientTape() as tape:
            probabilities = model(images, training=True)
            # The mean over every worker's images: each worker's sum, over the global batch.
            per_image = loss(targets, probabilities)
            total = tf.nn.compute_average_loss(per_image, global_batch_size=batches.batch_size * workers)
        gradients = tape.gradient(total, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        right = tf.reduce_sum(tf.cast(tf.argmax(probabilities, 1) == tf.argmax(targets, 1), tf.float32))
        return tf.reduce_sum(per_image), right

    history = {"loss": [], "accuracy": [], "learning_rate": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    for epoch in range(epochs):
        optimizer.learning_rate.assign(learning_rate(epoch))
        loss_sum = right_sum = 0.0
        for images, targets in strategy.distribute_datasets_from_function(own_batches):
            summed, right = strategy.run(step, args=(images, targets))
            loss_sum += float(strategy.reduce("SUM", summed, axis=None))
            right_sum += float(strategy.reduce("SUM", right, axis=None))
        seen = steps * workers * batches.batch_size
        history["loss"].append(loss_sum / seen)
        history["accuracy"].append(right_sum / seen)
        history["learning_rate"].append(float(optimizer.learning_rate.numpy()))
        if validation is not None:
            val_loss, val_accuracy = evaluate(model, *validation)
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(val_accuracy)
        batches.on_epoch_end()
    if optimizer.use_ema:
        optimizer.finalize_variable_values(model.trainable_variables)
    return history


def evaluate(model, images, targets, batch_size=1024):
    """Mean crossentropy and accuracy of `model` on one-hot `targets`, on this worker alone
    (the weights are the same on every worker)."""
    probabilities = models.outputs(model, images, batch_size)
    picked = np.clip((probabilities * targets).sum(axis=1), 1e-7, 1.0)
    return float(-np.log(picked).mean()), float((probabilities.argmax(axis=1) == targets.argmax(axis=1)).mean())
