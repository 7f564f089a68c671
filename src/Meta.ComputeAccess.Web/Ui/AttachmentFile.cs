using Meta.ComputeAccess.Proposals;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Net.Http.Headers;

namespace Meta.ComputeAccess.Web.Ui;

public static class AttachmentFile
{
    /// <summary>
    /// The one way an attachment leaves the portal (team, admin and reviewer pages alike): a PDF download, never
    /// rendered inline in the portal's origin, private and uncached; 404 when <paramref name="file"/> is not there
    /// (missing, or outside the caller's scope).
    /// </summary>
    public static IActionResult Download(PageModel page, AttachmentDownload? file)
    {
        if (file is null)
        {
            return page.NotFound();
        }
        page.Response.Headers.CacheControl = "private, no-store";
        page.Response.Headers.XContentTypeOptions = "nosniff";
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(file.FileName);
        page.Response.Headers.ContentDisposition = disposition.ToString();
        return new FileContentResult(file.Content, "application/pdf");
    }
}
