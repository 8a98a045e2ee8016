import { ApiError } from "../api/errors";

/** POST a file straight to S3 with its presigned form fields, reporting progress
 *  (0..1). XMLHttpRequest, because fetch reports no upload progress. S3 refuses what
 *  the signed policy does not allow (type, size): that is an `upload_refused`. */
export function uploadToS3(
  url: string,
  fields: Record<string, string>,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    body.append("file", file); // S3 ignores every field after the file
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new ApiError(request.status, "upload_refused", ""));
      }
    });
    request.addEventListener("error", () => reject(new ApiError(0, "network", "")));
    request.send(body);
  });
}
