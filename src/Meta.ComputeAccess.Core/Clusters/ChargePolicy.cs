using System.Globalization;
using System.Text.RegularExpressions;

namespace Meta.ComputeAccess.Clusters;

/// <summary>One TRES a policy charges and its rate: program units per hour of one of it (<c>gres/gpu:mtia=1/2</c>).</summary>
/// <param name="Tres">
/// <c>gres/gpu</c> (any GPU, and the fallback for types without a rate of their own), <c>gres/gpu:&lt;type&gt;</c> (a GPU
/// type or a MIG profile such as <c>gres/gpu:1g.10gb</c>), <c>billing</c> (Slurm's billing TRES, which already weighs
/// what the job holds) or <c>cpu</c> (for CPU-only jobs).
/// </param>
/// <param name="Rate">Units per hour, exact: <c>1/7</c> is kept as the fraction and divided at the end.</param>
public sealed record TresRate(string Tres, decimal Numerator, decimal Denominator)
{
    public decimal Rate => Numerator / Denominator;

    public override string ToString() => Denominator == 1
        ? string.Create(CultureInfo.InvariantCulture, $"{Tres}={Numerator:0.######}")
        : string.Create(CultureInfo.InvariantCulture, $"{Tres}={Numerator:0.######}/{Denominator:0.######}");
}

/// <summary>A partition whose jobs are charged a multiple of the rates (a <c>preempt</c> partition at 0.5).</summary>
public sealed record PartitionMultiplier(string Partition, decimal Multiplier)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Partition}={Multiplier:0.######}");
}

/// <summary>
/// How a cluster's jobs are charged in the program's unit (<see cref="ChargeUnitOptions"/>), from
/// <see cref="EffectiveFrom"/> until the next version takes effect. Versions are never rewritten (the table is
/// append-only): a change of rates is a new version, and every job is charged by the version in force at its end,
/// which its usage record and its ledger entry name.
/// </summary>
/// <remarks>
/// <para>A job's charge per hour of its run (<see cref="UnitsPerHour"/>), from its <c>AllocTRES</c> and partition:</para>
/// <list type="number">
/// <item>With a <c>billing</c> rate and a billing count in the job: billing × that rate (nothing else: Slurm's billing
/// already weighs the job's TRES).</item>
/// <item>Otherwise its GPUs: each typed entry <c>gres/gpu:&lt;type&gt;=N</c> at the type's rate (a MIG profile is a
/// fraction of a GPU only when the policy says so, <c>gres/gpu:1g.10gb=1/7</c>); a type without a rate, a MIG profile
/// too, at the <c>gres/gpu</c> rate, as Slurm counts it against <c>gres/gpu</c> limits and as it was charged before
/// rates existed (so the rate-1 version of existing clusters changes no charge); GPUs of the plain total <c>gres/gpu=N</c> not covered by typed entries
/// at the <c>gres/gpu</c> rate (Slurm prints both, <c>gres/gpu:h100=2,gres/gpu=2</c>: 2 GPUs, not 4).</item>
/// <item>A job without GPUs is charged its <c>cpu</c> count at the <c>cpu</c> rate, if the policy has one (CPU-only partitions).</item>
/// <item>The sum is multiplied by the job's partition's multiplier (1 when none is set).</item>
/// </list>
/// <para>Hours charged = ElapsedRaw × that ÷ 3600, rounded half-to-even to 6 decimals once per job.</para>
/// </remarks>
public sealed partial class ChargePolicy
{
    /// <summary>What a cluster without any version is charged: one unit per GPU-hour (what every hour meant before rates).</summary>
    public const string DefaultRates = "gres/gpu=1";

    public Guid Id { get; private set; }

    public Guid ClusterId { get; private set; }

    /// <summary>1, 2, … per cluster.</summary>
    public int Version { get; private set; }

    /// <summary>Jobs ending at or after this instant (until the next version) are charged by this version.</summary>
    public DateTimeOffset EffectiveFrom { get; private set; }

    /// <summary>The rates as written, one <c>tres=rate</c> per line; the first line's TRES is the cluster's native unit.</summary>
    public string RatesText { get; private set; } = DefaultRates;

    /// <summary>Partition multipliers as written, one <c>partition=multiplier</c> per line; empty for none.</summary>
    public string MultipliersText { get; private set; } = "";

    /// <summary>Why the version was made, for the people who read the ledger.</summary>
    public string Note { get; private set; } = "";

    public DateTimeOffset CreatedAt { get; private set; }

    public Guid? CreatedBy { get; private set; }

    private IReadOnlyList<TresRate>? rates;
    private IReadOnlyList<PartitionMultiplier>? multipliers;

    public IReadOnlyList<TresRate> Rates => rates ??= ParseRates(RatesText);

    public IReadOnlyList<PartitionMultiplier> Multipliers => multipliers ??= ParseMultipliers(MultipliersText);

    /// <summary>The TRES whose hours are the cluster's own ("native") hours: the first rate listed.</summary>
    public TresRate Native => Rates[0];

    private ChargePolicy()
    {
    }

    /// <summary>The rates of a cluster that has no version: rate 1 per GPU-hour, for all time.</summary>
    public static ChargePolicy Default(Guid clusterId) => new()
    {
        ClusterId = clusterId,
        Version = 0,
        EffectiveFrom = DateTimeOffset.MinValue,
        Note = "Rate 1 per GPU-hour (no charge policy set)",
    };

    /// <summary>A new version; throws <see cref="DomainException"/> with a sentence per field when the rates cannot be read.</summary>
    public static ChargePolicy Create(Guid clusterId, int version, DateTimeOffset effectiveFrom, string? ratesText, string? multipliersText, string? note, Guid? actor, DateTimeOffset now)
    {
        var fields = new Dictionary<string, string>();
        IReadOnlyList<TresRate> rates = [];
        IReadOnlyList<PartitionMultiplier> multipliers = [];
        try
        {
            rates = ParseRates(ratesText);
        }
        catch (FormatException e)
        {
            fields["Rates"] = e.Message;
        }
        try
        {
            multipliers = ParseMultipliers(multipliersText);
        }
        catch (FormatException e)
        {
            fields["Multipliers"] = e.Message;
        }
        var why = (note ?? "").Trim();
        if (why.Length is 0 or > 500)
        {
            fields["Note"] = "Say in at most 500 characters why the rates change; the ledger's readers see it.";
        }
        if (fields.Count > 0)
        {
            throw new DomainException("The charge policy was not saved: " + string.Join(" ", fields.Values), fields);
        }
        return new ChargePolicy
        {
            Id = Guid.CreateVersion7(now),
            ClusterId = clusterId,
            Version = version,
            EffectiveFrom = effectiveFrom,
            RatesText = string.Join('\n', rates),
            MultipliersText = string.Join('\n', multipliers),
            Note = why,
            CreatedAt = now,
            CreatedBy = actor,
            rates = rates,
            multipliers = multipliers,
        };
    }

    /// <summary>Program units per hour a job holding <paramref name="allocTres"/> in <paramref name="partition"/> is charged (see the remarks).</summary>
    public decimal UnitsPerHour(string? allocTres, string? partition)
    {
        var job = JobTres.Parse(allocTres);
        decimal perHour;
        if (RateOf("billing") is { } billingRate && job.Billing > 0)
        {
            perHour = job.Billing * billingRate.Numerator / billingRate.Denominator;
        }
        else if (job.Gpus > 0)
        {
            var gpu = RateOf("gres/gpu");
            perHour = 0m;
            var typed = 0L;
            foreach (var (type, count) in job.Typed)
            {
                typed += count;
                if (RateOf("gres/gpu:" + type) is { } own)
                {
                    perHour += count * own.Numerator / own.Denominator;
                }
                else if (gpu is not null)
                {
                    // A type without a rate of its own, a MIG profile too, is a GPU at the gres/gpu rate: that is how Slurm
                    // counts it against gres/gpu limits, and what it cost before rates existed.
                    perHour += count * gpu.Numerator / gpu.Denominator;
                }
            }
            if (job.Plain > typed && gpu is not null)
            {
                perHour += (job.Plain - typed) * gpu.Numerator / gpu.Denominator;
            }
        }
        else
        {
            perHour = RateOf("cpu") is { } cpu ? job.Cpus * cpu.Numerator / cpu.Denominator : 0m;
        }
        return perHour * MultiplierOf(partition);
    }

    /// <summary>Units charged for a job: ElapsedRaw × <see cref="UnitsPerHour"/> ÷ 3600, to 6 decimals (banker's rounding).</summary>
    public static decimal Charge(long elapsedSeconds, decimal unitsPerHour) =>
        decimal.Round(elapsedSeconds * unitsPerHour / 3600m, 6, MidpointRounding.ToEven);

    /// <summary>The cluster's native hours that <paramref name="units"/> buy at this version's native rate.</summary>
    public decimal ToNative(decimal units) => Native.Numerator == 0 ? 0m : decimal.Round(units * Native.Denominator / Native.Numerator, 6, MidpointRounding.ToEven);

    public decimal MultiplierOf(string? partition)
    {
        if (!string.IsNullOrEmpty(partition))
        {
            foreach (var m in Multipliers)
            {
                if (string.Equals(m.Partition, partition, StringComparison.Ordinal))
                {
                    return m.Multiplier;
                }
            }
        }
        return 1m;
    }

    private TresRate? RateOf(string tres)
    {
        foreach (var rate in Rates)
        {
            if (string.Equals(rate.Tres, tres, StringComparison.OrdinalIgnoreCase))
            {
                return rate;
            }
        }
        return null;
    }

    /// <summary>Reads <c>tres=rate</c> lines (or comma-separated); a rate may be a fraction <c>1/7</c>.</summary>
    public static IReadOnlyList<TresRate> ParseRates(string? text)
    {
        var rates = new List<TresRate>();
        foreach (var (key, value) in Pairs(text))
        {
            if (!TresPattern().IsMatch(key))
            {
                throw new FormatException($"\"{key}\" is not a TRES this portal charges: use gres/gpu, gres/gpu:<type> (a GPU type or MIG profile such as 1g.10gb), billing or cpu.");
            }
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            if (!TryNumber(slash < 0 ? value : value[..slash], out var numerator) || numerator < 0 || numerator > 1_000_000
                || !TryNumber(slash < 0 ? "1" : value[(slash + 1)..], out var denominator) || denominator <= 0 || denominator > 1_000_000)
            {
                throw new FormatException($"The rate of {key} must be a number from 0 to 1,000,000 or a fraction such as 1/7, not \"{value}\".");
            }
            if (rates.Any(r => string.Equals(r.Tres, key, StringComparison.OrdinalIgnoreCase)))
            {
                throw new FormatException($"{key} is listed twice.");
            }
            rates.Add(new TresRate(key.ToLowerInvariant(), numerator, denominator));
        }
        if (rates.Count == 0)
        {
            throw new FormatException("List at least one rate, for example gres/gpu=1.");
        }
        if (rates[0].Numerator == 0)
        {
            // The first line is the cluster's own hour: every quota limit is granted hours at this rate, so 0 would stop every job.
            throw new FormatException($"The first rate ({rates[0].Tres}) is the cluster's own hour, which its quota limits count: it cannot be 0.");
        }
        if (rates.Count > 50)
        {
            throw new FormatException("At most 50 rates.");
        }
        if (rates.Any(r => r.Tres.StartsWith("gres/gpu:", StringComparison.Ordinal)) && !rates.Any(r => r.Tres == "gres/gpu"))
        {
            throw new FormatException("Typed GPU rates need a gres/gpu rate too: it charges GPUs reported without a type or of a type not listed.");
        }
        return rates;
    }

    /// <summary>Reads <c>partition=multiplier</c> lines (or comma-separated); empty for none.</summary>
    public static IReadOnlyList<PartitionMultiplier> ParseMultipliers(string? text)
    {
        var multipliers = new List<PartitionMultiplier>();
        foreach (var (key, value) in Pairs(text))
        {
            if (!PartitionPattern().IsMatch(key))
            {
                throw new FormatException($"\"{key}\" is not a Slurm partition name.");
            }
            if (!TryNumber(value, out var multiplier) || multiplier < 0 || multiplier > 100)
            {
                throw new FormatException($"The multiplier of partition {key} must be a number from 0 to 100, not \"{value}\".");
            }
            if (multipliers.Any(m => m.Partition == key))
            {
                throw new FormatException($"Partition {key} is listed twice.");
            }
            multipliers.Add(new PartitionMultiplier(key, multiplier));
        }
        return multipliers.Count > 100 ? throw new FormatException("At most 100 partition multipliers.") : multipliers;
    }

    private static IEnumerable<(string Key, string Value)> Pairs(string? text)
    {
        foreach (var raw in (text ?? "").Split(['\n', ',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = raw.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"\"{(raw.Length > 60 ? raw[..60] + "…" : raw)}\" is not of the form name=value.");
            }
            yield return (raw[..equals].Trim(), raw[(equals + 1)..].Trim());
        }
    }

    private static bool TryNumber(string text, out decimal value) =>
        decimal.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value) && decimal.Round(value, 6) == value;

    [GeneratedRegex("^(gres/gpu(:[A-Za-z0-9_.-]{1,40})?|billing|cpu)$", RegexOptions.IgnoreCase)]
    private static partial Regex TresPattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex PartitionPattern();

    /// <summary>What a job's AllocTRES holds that a policy can charge.</summary>
    private sealed record JobTres(long Plain, IReadOnlyList<(string Type, long Count)> Typed, decimal Billing, long Cpus)
    {
        public long Gpus => Math.Max(Plain, Typed.Sum(t => t.Count));

        public static JobTres Parse(string? allocTres)
        {
            long plain = 0, cpus = 0;
            decimal billing = 0;
            var typed = new List<(string, long)>();
            foreach (var entry in (allocTres ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = entry.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    continue;
                }
                var key = entry[..equals];
                var value = entry[(equals + 1)..];
                if (key == "gres/gpu")
                {
                    _ = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out plain);
                }
                else if (key.StartsWith("gres/gpu:", StringComparison.Ordinal) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                {
                    typed.Add((key["gres/gpu:".Length..], count));
                }
                else if (key == "billing")
                {
                    _ = decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out billing);
                }
                else if (key == "cpu")
                {
                    _ = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out cpus);
                }
            }
            return new JobTres(plain, typed, billing, cpus);
        }
    }
}
