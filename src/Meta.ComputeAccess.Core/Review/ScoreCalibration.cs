namespace Meta.ComputeAccess.Review;

/// <summary>One submitted review's overall score.</summary>
public sealed record ReviewScore(Guid ProposalId, Guid ReviewerId, double Score);

/// <summary>
/// <paramref name="Lambda"/> is the ridge penalty on leniencies: it acts like <c>Lambda</c> extra reviews
/// at leniency zero, so a reviewer with few reviews is not given an extreme offset.
/// </summary>
public sealed record CalibrationSettings(double Lambda = 1.0, double DisagreementSpread = 3.0);

/// <summary>
/// A proposal's calibrated score (its estimated quality on the scale of an average-leniency reviewer)
/// next to its raw figures. <paramref name="Component"/> numbers the group of proposals linked by shared
/// reviewers; calibrated scores compare exactly only within one component.
/// </summary>
public sealed record CalibratedProposal(
    Guid ProposalId,
    double CalibratedScore,
    double RawMean,
    int ReviewCount,
    double Spread,
    bool Disagreement,
    int Component);

/// <summary>A reviewer's estimated leniency: positive means they score higher than their peers.</summary>
public sealed record ReviewerLeniency(Guid ReviewerId, double Leniency, int ReviewCount, int Component);

public sealed record CalibrationResult(
    IReadOnlyList<CalibratedProposal> Proposals,
    IReadOnlyList<ReviewerLeniency> Reviewers,
    int ComponentCount);

/// <summary>
/// Fits score(p, r) = quality(p) + leniency(r) + noise by ridge-regularized least squares:
/// minimize Σ (s_pr − q_p − l_r)² + λ Σ l_r².
/// <para>
/// Solved exactly through the normal equations, not iteratively: q_p = mean_r(s_pr − l_r) is
/// substituted, leaving (D − W + λI) l = b over reviewers (D = review counts, W_rr' = Σ over shared
/// proposals of 1/n_p, b_r = Σ_p (s_pr − mean_p)). Per connected component the all-ones matrix J is
/// added, (D − W + λI + J) l = b, which is positive definite and solved by Cholesky. Adding J changes
/// nothing when λ &gt; 0 (the optimum already has Σ l = 0 per component) and picks the mean-zero
/// solution when λ = 0, where the model only determines leniencies up to a constant.
/// </para>
/// Cost is O(R³) per component with R reviewers in it: fine for calls with up to a few thousand reviewers.
/// </summary>
public sealed class ScoreCalibration(CalibrationSettings settings)
{
    public ScoreCalibration() : this(new CalibrationSettings())
    {
    }

    public CalibrationSettings Settings { get; } = Validate(settings);

    public CalibrationResult Fit(IReadOnlyCollection<ReviewScore> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);

        // Ids are sorted so that the result (and the floating-point summation order) never depends on input order.
        var proposalIds = scores.Select(s => s.ProposalId).Distinct().Order().ToArray();
        var reviewerIds = scores.Select(s => s.ReviewerId).Distinct().Order().ToArray();
        var proposalIndex = Index(proposalIds);
        var reviewerIndex = Index(reviewerIds);

        var reviewsOf = new List<(int Reviewer, double Score)>[proposalIds.Length];
        for (var p = 0; p < reviewsOf.Length; p++)
        {
            reviewsOf[p] = [];
        }
        var seen = new HashSet<(Guid, Guid)>();
        foreach (var s in scores)
        {
            if (!double.IsFinite(s.Score))
            {
                throw new ArgumentException($"Score of reviewer {s.ReviewerId} on proposal {s.ProposalId} is not a finite number.", nameof(scores));
            }
            if (!seen.Add((s.ProposalId, s.ReviewerId)))
            {
                throw new ArgumentException($"Reviewer {s.ReviewerId} has more than one score for proposal {s.ProposalId}.", nameof(scores));
            }
            reviewsOf[proposalIndex[s.ProposalId]].Add((reviewerIndex[s.ReviewerId], s.Score));
        }
        foreach (var list in reviewsOf)
        {
            list.Sort((a, b) => a.Reviewer.CompareTo(b.Reviewer));
        }

        var (reviewerComponent, componentCount) = Components(reviewsOf, reviewerIds.Length);
        var leniency = new double[reviewerIds.Length];
        for (var c = 0; c < componentCount; c++)
        {
            SolveComponent(c, reviewerComponent, reviewsOf, leniency);
        }

        var reviewerCounts = new int[reviewerIds.Length];
        var proposals = new List<CalibratedProposal>(proposalIds.Length);
        for (var p = 0; p < proposalIds.Length; p++)
        {
            var reviews = reviewsOf[p];
            double raw = 0, calibrated = 0, min = double.MaxValue, max = double.MinValue;
            foreach (var (r, score) in reviews)
            {
                raw += score;
                calibrated += score - leniency[r];
                min = Math.Min(min, score);
                max = Math.Max(max, score);
                reviewerCounts[r]++;
            }
            var spread = max - min;
            proposals.Add(new CalibratedProposal(
                proposalIds[p],
                calibrated / reviews.Count,
                raw / reviews.Count,
                reviews.Count,
                spread,
                spread >= Settings.DisagreementSpread,
                reviewerComponent[reviews[0].Reviewer]));
        }
        proposals.Sort((a, b) =>
        {
            var byScore = b.CalibratedScore.CompareTo(a.CalibratedScore);
            return byScore != 0 ? byScore : a.ProposalId.CompareTo(b.ProposalId);
        });

        var reviewers = new List<ReviewerLeniency>(reviewerIds.Length);
        for (var r = 0; r < reviewerIds.Length; r++)
        {
            reviewers.Add(new ReviewerLeniency(reviewerIds[r], leniency[r], reviewerCounts[r], reviewerComponent[r]));
        }
        return new CalibrationResult(proposals, reviewers, componentCount);
    }

    private void SolveComponent(int component, int[] reviewerComponent, List<(int Reviewer, double Score)>[] reviewsOf, double[] leniency)
    {
        var members = new List<int>();
        for (var r = 0; r < reviewerComponent.Length; r++)
        {
            if (reviewerComponent[r] == component)
            {
                members.Add(r);
            }
        }
        var n = members.Count;
        var local = new Dictionary<int, int>(n);
        for (var i = 0; i < n; i++)
        {
            local[members[i]] = i;
        }

        // Start from λI + J; add each proposal's block of D − W and its right-hand side.
        var a = new double[n, n];
        var b = new double[n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                a[i, j] = 1.0;
            }
            a[i, i] += Settings.Lambda;
        }
        foreach (var reviews in reviewsOf)
        {
            if (reviewerComponent[reviews[0].Reviewer] != component)
            {
                continue;
            }
            var count = reviews.Count;
            var mean = 0.0;
            foreach (var (_, score) in reviews)
            {
                mean += score;
            }
            mean /= count;
            foreach (var (r, score) in reviews)
            {
                var i = local[r];
                b[i] += score - mean;
                a[i, i] += 1.0;
                foreach (var (r2, _) in reviews)
                {
                    a[i, local[r2]] -= 1.0 / count;
                }
            }
        }

        var x = CholeskySolve(a, b);
        for (var i = 0; i < n; i++)
        {
            leniency[members[i]] = x[i];
        }
    }

    /// <summary>Solves A x = b for symmetric positive definite A (overwrites A with its factor).</summary>
    private static double[] CholeskySolve(double[,] a, double[] b)
    {
        var n = b.Length;
        for (var j = 0; j < n; j++)
        {
            var diagonal = a[j, j];
            for (var k = 0; k < j; k++)
            {
                diagonal -= a[j, k] * a[j, k];
            }
            if (diagonal <= 1e-12)
            {
                throw new InvalidOperationException("Calibration system is not positive definite; this indicates a bug in component detection.");
            }
            var root = Math.Sqrt(diagonal);
            a[j, j] = root;
            for (var i = j + 1; i < n; i++)
            {
                var sum = a[i, j];
                for (var k = 0; k < j; k++)
                {
                    sum -= a[i, k] * a[j, k];
                }
                a[i, j] = sum / root;
            }
        }
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var sum = b[i];
            for (var k = 0; k < i; k++)
            {
                sum -= a[i, k] * y[k];
            }
            y[i] = sum / a[i, i];
        }
        var x = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var sum = y[i];
            for (var k = i + 1; k < n; k++)
            {
                sum -= a[k, i] * x[k];
            }
            x[i] = sum / a[i, i];
        }
        return x;
    }

    /// <summary>Connected components of the reviewer–proposal graph, numbered by their smallest reviewer index.</summary>
    private static (int[] ReviewerComponent, int Count) Components(List<(int Reviewer, double Score)>[] reviewsOf, int reviewerCount)
    {
        var parent = new int[reviewerCount];
        for (var r = 0; r < reviewerCount; r++)
        {
            parent[r] = r;
        }
        int Find(int r)
        {
            while (parent[r] != r)
            {
                parent[r] = parent[parent[r]];
                r = parent[r];
            }
            return r;
        }
        foreach (var reviews in reviewsOf)
        {
            var root = Find(reviews[0].Reviewer);
            foreach (var (r, _) in reviews)
            {
                var other = Find(r);
                if (other != root)
                {
                    // Keep the smaller index as root so numbering is stable.
                    if (other < root)
                    {
                        parent[root] = other;
                        root = other;
                    }
                    else
                    {
                        parent[other] = root;
                    }
                }
            }
        }
        var number = new Dictionary<int, int>();
        var component = new int[reviewerCount];
        for (var r = 0; r < reviewerCount; r++)
        {
            var root = Find(r);
            if (!number.TryGetValue(root, out var c))
            {
                c = number.Count;
                number[root] = c;
            }
            component[r] = c;
        }
        return (component, number.Count);
    }

    private static Dictionary<Guid, int> Index(Guid[] ids)
    {
        var index = new Dictionary<Guid, int>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            index[ids[i]] = i;
        }
        return index;
    }

    private static CalibrationSettings Validate(CalibrationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!double.IsFinite(settings.Lambda) || settings.Lambda < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), "Lambda must be a finite number ≥ 0.");
        }
        return settings;
    }
}
