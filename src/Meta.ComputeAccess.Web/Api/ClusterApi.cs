using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Usage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Api;

/// <summary>
/// The cluster API (contract and cluster side in docs/cluster-integration.md; the quota rules in <see cref="QuotaExport"/>). Only the
/// ClusterToken scheme: no cookies, no antiforgery; a token acts for its own cluster only.
/// </summary>
public static class ClusterApi
{
    /// <summary>The largest usage body accepted (a million sacct lines is about 150 MB).</summary>
    public const long MaxUsageBodyBytes = 512L * 1024 * 1024;

    public static void MapClusterApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization(ClusterTokenAuthentication.Policy).RequireRateLimiting(Configurations.PortalRateLimits.ClusterApi).DisableAntiforgery();
        api.MapPost("/usage", PostUsageAsync).WithMetadata(new RequestSizeLimitAttribute(MaxUsageBodyBytes));
        api.MapGet("/clusters/{cluster}/quotas", GetQuotasAsync);
        api.MapGet("/clusters/{cluster}/associations", GetAssociationsAsync);
        api.MapPost("/clusters/{cluster}/sync-reports", PostSyncReportAsync).WithMetadata(new RequestSizeLimitAttribute(MaxSyncReportBytes));
    }

    /// <summary>The largest sync report accepted (100,000 accounts with their members fit in about 50 MB).</summary>
    public const long MaxSyncReportBytes = 64L * 1024 * 1024;

    private static IResult Problem(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    internal static async Task<IResult> PostUsageAsync(HttpContext http, UsageIngest ingest, string? cluster, CancellationToken cancellationToken)
    {
        if (cluster is not null && !string.Equals(cluster, http.User.ClusterSlug(), StringComparison.Ordinal))
        {
            return Problem(StatusCodes.Status403Forbidden, $"This token belongs to cluster '{http.User.ClusterSlug()}' and cannot post usage for '{cluster}'.");
        }
        var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        UsageBodyFormat format;
        switch (mediaType)
        {
            case "text/plain":
                format = UsageBodyFormat.SacctParsable2;
                break;
            case "application/x-ndjson" or "application/jsonl" or "application/json-lines":
                format = UsageBodyFormat.JsonLines;
                break;
            default:
                return Problem(StatusCodes.Status415UnsupportedMediaType,
                    "Send `sacct --parsable2` output with its header as Content-Type: text/plain, or JSON lines as application/x-ndjson.");
        }
        if (http.Request.ContentLength > MaxUsageBodyBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"A usage body may be at most {MaxUsageBodyBytes / 1024 / 1024} MB; send the records in several batches.");
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxUsageBodyBytes;
        }

        // Read and recorded as the body arrives, in one transaction that commits only once all of it was read.
        UsageReceipt receipt;
        try
        {
            receipt = await ingest.ReceiveAsync(http.User.ClusterId(), http.Request.Body, format, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"A usage body may be at most {MaxUsageBodyBytes / 1024 / 1024} MB; send the records in several batches.");
        }
        catch (DecoderFallbackException)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body is not valid UTF-8 text; nothing was recorded. Send sacct's output as it is, in UTF-8.");
        }

        var parsed = receipt.Parsed;
        if (receipt.Ingested is not { } result)
        {
            return Problem(StatusCodes.Status400BadRequest, parsed.Rejected.FirstOrDefault()?.Reason ?? "The body has no sacct header line.");
        }
        if (parsed.Chargeable.Count + parsed.Pending.Count + parsed.SkippedSteps + parsed.Duplicates.Count == 0)
        {
            return parsed.RejectedCount == 0
                ? Problem(StatusCodes.Status400BadRequest, "The body holds no job records.")
                : Results.Json(new
                {
                    error = "No line of the body could be read as a job record.",
                    rejected = parsed.RejectedCount,
                    rejections = parsed.Rejected.Select(r => new { line = r.LineNumber, reason = r.Reason }),
                }, statusCode: StatusCodes.Status400BadRequest);
        }

        return Results.Ok(new
        {
            accepted = result.Accepted,
            charged = result.Charged,
            chargedGpuHours = result.ChargedGpuHours,
            chargedHours = result.ChargedHours,
            duplicate = result.Duplicate,
            pending = result.Pending,
            skippedSteps = result.SkippedSteps,
            unmatched = result.Unmatched,
            rejected = result.Rejected,
            rejections = result.Rejections.Select(r => new { line = r.LineNumber, reason = r.Reason }),
        });
    }

    /// <summary>403 when <paramref name="cluster"/> is not the token's own (what it may not <paramref name="doing"/>), else null.</summary>
    private static IResult? OtherCluster(HttpContext http, string cluster, string doing) =>
        string.Equals(cluster, http.User.ClusterSlug(), StringComparison.Ordinal)
            ? null
            : Problem(StatusCodes.Status403Forbidden, $"This token belongs to cluster '{http.User.ClusterSlug()}' and cannot {doing} '{cluster}'.");

    internal static async Task<IResult> GetQuotasAsync(HttpContext http, PortalDbContext db, TimeProvider clock, string cluster, string? format, CancellationToken cancellationToken)
    {
        if (OtherCluster(http, cluster, "read the quotas of") is { } refused)
        {
            return refused;
        }
        var export = await QuotaExport.ForClusterAsync(db, http.User.ClusterId(), clock.GetUtcNow(), cancellationToken);
        if (string.Equals(format, "sacctmgr", StringComparison.OrdinalIgnoreCase))
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"# {export.Tres} minute limits for Slurm cluster {export.SlurmClusterName}, from Meta Compute Access.\n");
            text.Append(CultureInfo.InvariantCulture, $"# GrpTRESMins caps the account's total {export.Tres} minutes; pending, suspended and used-up accounts get 0.\n");
            foreach (var r in export.Accounts)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"sacctmgr -i modify account where name={r.SlurmAccount} cluster={export.SlurmClusterName} set GrpTRESMins={export.Tres}={r.LimitMinutes}\n");
            }
            return Results.Text(text.ToString(), "text/plain; charset=utf-8");
        }
        return Results.Ok(new
        {
            cluster,
            slurmCluster = export.SlurmClusterName,
            accounts = export.Active.Select(r => new
            {
                account = r.SlurmAccount,
                grantedGpuHours = r.GrantedHours,
                usedGpuHours = r.UsedHours,
                remainingGpuHours = r.RemainingHours,
                startDate = r.StartDate,
                endDate = r.EndDate,
            }),
        });
    }

    /// <summary>
    /// The plan the cluster's agent applies (contract: deploy/cluster/README.md), with a strong ETag over its content;
    /// <c>If-None-Match</c> with the current tag answers 304 and no body.
    /// </summary>
    internal static async Task<IResult> GetAssociationsAsync(HttpContext http, PortalDbContext db, TimeProvider clock, string cluster, CancellationToken cancellationToken)
    {
        if (OtherCluster(http, cluster, "read the plan of") is { } refused)
        {
            return refused;
        }
        var plan = await ClusterPlan.ForClusterAsync(db, http.User.ClusterId(), clock, cancellationToken);
        http.Response.Headers.ETag = plan.ETag;
        http.Response.Headers.CacheControl = "no-cache";
        if (Matches(http.Request.Headers.IfNoneMatch, plan.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        return Results.Json(new
        {
            cluster = plan.Cluster,
            slurmCluster = plan.SlurmCluster,
            tres = plan.Tres,
            generatedAt = plan.GeneratedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            accounts = plan.Accounts.Select(a => new
            {
                account = a.Account,
                allocationId = a.AllocationId.ToString("D"),
                state = a.State.ToString(),
                limitTresMinutes = a.LimitTresMinutes,
                start = a.Start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                end = a.End.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                usageEpoch = a.UsageEpoch,
                members = a.Members.Select(login => new { login }),
            }),
        });
    }

    /// <summary>Whether an If-None-Match header names <paramref name="etag"/> (or is <c>*</c>); weak tags compare by their value.</summary>
    private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etag)
    {
        foreach (var header in ifNoneMatch)
        {
            foreach (var candidate in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var tag = candidate.StartsWith("W/", StringComparison.Ordinal) ? candidate[2..] : candidate;
                if (tag == "*" || string.Equals(tag, etag, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>
    /// What the cluster's agent applied, per account. Checked before anything is stored (400 with every problem); the
    /// same body sent again is answered as a duplicate and stored once.
    /// </summary>
    internal static async Task<IResult> PostSyncReportAsync(HttpContext http, ClusterSyncReports reports, TimeProvider clock, string cluster, CancellationToken cancellationToken)
    {
        if (OtherCluster(http, cluster, "report for") is { } refused)
        {
            return refused;
        }
        if (!string.Equals(http.Request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Send the report as Content-Type: application/json.");
        }
        if (http.Request.ContentLength > MaxSyncReportBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"A sync report may be at most {MaxSyncReportBytes / 1024 / 1024} MB.");
        }
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, cancellationToken);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"A sync report may be at most {MaxSyncReportBytes / 1024 / 1024} MB.");
        }
        var read = SyncReportReader.Read(body, clock.GetUtcNow());
        if (read.Report is not { } report)
        {
            return Results.Json(new { error = "The sync report was not stored: " + read.Problems[0], problems = read.Problems }, statusCode: StatusCodes.Status400BadRequest);
        }
        var receipt = await reports.ReceiveAsync(http.User.ClusterId(), report, System.Security.Cryptography.SHA256.HashData(body), cancellationToken);
        return Results.Ok(new { reportId = receipt.ReportId, duplicate = receipt.Duplicate, accounts = receipt.Accounts, failed = receipt.Failed });
    }
}
